using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;
using ReplyAdmin.Engine.Scheduling;

namespace ReplyAdmin.Runner
{
    /// <summary>The entry point of a scheduled run without PowerShell; see <see cref="ScheduledRun"/>.</summary>
    public static class Program
    {
        /// <summary>Runs once (or resident with -Watch) and returns the exit code of Start-ReplyProcessing.ps1.</summary>
        public static int Main(string[] args)
        {
            // Before the arguments are read: a newer version may take arguments this one does not know.
            var newer = NewerInstalledRunner();
            if (newer != null)
                return RunNewer(newer, args);
            ScheduledRunOptions options;
            try
            {
                options = ScheduledRunOptions.Parse(args);
            }
            catch (ReplyAdminException e)
            {
                Console.Error.WriteLine($"{e.ErrorId}: {e.Message}");
                Console.Error.WriteLine(e.RecommendedAction);
                return (int)ScheduledRunExit.Failed;
            }
            if (options.Help)
            {
                Console.Out.WriteLine($"ReplyAdmin.Runner {typeof(ScheduledRun).Assembly.GetName().Version} ({AppContext.BaseDirectory})");
                Console.Out.WriteLine(ScheduledRunOptions.Usage);
                return 0;
            }
            using var stopping = new CancellationTokenSource();
            using var signals = TerminationSignals.StopOn(stopping.Cancel, () => stopping.IsCancellationRequested, interrupt: true);
            var credentials = new CredentialResolver(NoSecretStore);
            return (int)ScheduledRun.RunAsync(options, credentials, Console.Out, Console.Error, stopping.Token).GetAwaiter().GetResult();
        }

        // Installed with Install-PSResource, the module sits in ReplyAdmin/<version>/ and Update-PSResource puts the new version
        // beside the old one: a schedule registered under an older version runs the newest one installed, as
        // Start-ReplyProcessing.ps1 does.
        private static string NewerInstalledRunner()
        {
            var dependencies = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var own = dependencies.Parent;
            if (dependencies.Name != "dependencies" || own?.Parent?.Name != "ReplyAdmin" || !Version.TryParse(own.Name, out var ownVersion))
                return null;
            var newest = own.Parent.EnumerateDirectories()
                .Select(d => (Directory: d, Version: Version.TryParse(d.Name, out var v) ? v : null))
                .Where(d => d.Version != null && d.Version > ownVersion && File.Exists(Path.Combine(d.Directory.FullName, "dependencies", ScheduledProgram.RunnerFileName)))
                .OrderByDescending(d => d.Version)
                .FirstOrDefault();
            return newest.Directory == null ? null : Path.Combine(newest.Directory.FullName, "dependencies", ScheduledProgram.RunnerFileName);
        }

        // Runs the newer runner with the same arguments, output and error, and returns its exit code. This process ignores
        // SIGTERM and Ctrl+C meanwhile: systemd's stop and the terminal send them to both processes, and the newer runner
        // ends its run as asked (a signal passed on as well would be its second, which ends it at once).
        private static int RunNewer(string runner, string[] args)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { UseShellExecute = false };
            start.ArgumentList.Add(runner);
            foreach (var argument in args) start.ArgumentList.Add(argument);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = true);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
            using var child = Process.Start(start);
            child.WaitForExit();
            return child.ExitCode;
        }

        // secret: references need SecretManagement, a PowerShell module; Register-ReplyProcessingSchedule starts pwsh for them.
        private static string NoSecretStore(string name) =>
            throw new ReplyAdminException(ErrorIds.CredentialStoreUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                $"ReplyAdmin.Runner cannot read the SecretManagement secret '{name}': SecretManagement is a PowerShell module.", "secret:" + name,
                "Register the schedule again (Register-ReplyProcessingSchedule picks PowerShell for secret: references), or use env: or file: references.");
    }
}
