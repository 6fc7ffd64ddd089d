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
            // Socket completions run on the socket threads instead of being handed to the thread pool one by one: 15-40%
            // less CPU for a run from IMAP. Set before the first socket; the engine closes connections off those threads
            // (SocketThreads). A value the administrator set wins.
            if (Environment.GetEnvironmentVariable(SocketThreads.InlineCompletionsVariable) == null)
                Environment.SetEnvironmentVariable(SocketThreads.InlineCompletionsVariable, "1");
            // Before the arguments are read: a newer version may take arguments this one does not know.
            var newer = NewerInstalledRunner();
            if (newer != null && (!Native || ScheduledProgram.MakeExecutable(newer)))
                return RunNewer(newer, args);
            if (newer != null)
                Console.Error.WriteLine($"WARNING: {newer} is installed but cannot be made executable (chmod +x); this run uses {Environment.ProcessPath}.");
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
        // beside the old one: a schedule registered under an older version runs the newest one installed (the same kind of
        // runner, at the same place in its folder), as Start-ReplyProcessing.ps1 does.
        private static string NewerInstalledRunner()
        {
            var self = Native ? Environment.ProcessPath : typeof(Program).Assembly.Location;
            if (string.IsNullOrEmpty(self)) return null;
            // dependencies/ReplyAdmin.Runner.dll, or dependencies/<platform>/ReplyAdmin.Runner for the native runner
            var own = new FileInfo(self).Directory;
            while (own != null && own.Name != "dependencies") own = own.Parent;
            own = own?.Parent;
            if (own?.Parent?.Name != "ReplyAdmin" || !Version.TryParse(own.Name, out var ownVersion))
                return null;
            var relative = Path.GetRelativePath(own.FullName, self);
            return own.Parent.EnumerateDirectories()
                .Select(d => (Runner: Path.Combine(d.FullName, relative), Version: Version.TryParse(d.Name, out var v) ? v : null))
                .Where(d => d.Version != null && d.Version > ownVersion && File.Exists(d.Runner))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Runner)
                .FirstOrDefault();
        }

        // Compiled ahead of time (NativeAOT), the runner is its own program; otherwise the dotnet muxer runs it.
        private static bool Native => !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported;

        // Runs the newer runner with the same arguments, output and error, and returns its exit code. This process ignores
        // SIGTERM and Ctrl+C meanwhile: systemd's stop and the terminal send them to both processes, and the newer runner
        // ends its run as asked (a signal passed on as well would be its second, which ends it at once).
        private static int RunNewer(string runner, string[] args)
        {
            var start = new ProcessStartInfo(Native ? runner : Environment.ProcessPath ?? "dotnet") { UseShellExecute = false };
            if (!Native) start.ArgumentList.Add(runner);
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
