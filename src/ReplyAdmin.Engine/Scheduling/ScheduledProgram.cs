using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Scheduling
{
    /// <summary>What a scheduled run starts.</summary>
    public enum ScheduleRunner
    {
        /// <summary>
        /// The native runner where the installation has one for this platform, else the runner where a .NET 8 or later runtime
        /// is installed, else PowerShell; PowerShell whenever the configuration has a <c>secret:</c> reference.
        /// </summary>
        Auto,
        /// <summary><c>dotnet ReplyAdmin.Runner.dll</c>: no PowerShell start and no module import, so a run starts in well under a second.</summary>
        DotNet,
        /// <summary><c>pwsh -File Start-ReplyProcessing.ps1</c>: needed for <c>secret:</c> references (SecretManagement).</summary>
        PowerShell,
        /// <summary>
        /// The runner compiled to a native program for this platform (<c>dependencies/&lt;platform&gt;/ReplyAdmin.Runner</c>):
        /// no .NET runtime to start and nothing to JIT-compile, so a run takes about half the CPU of <see cref="DotNet"/>.
        /// </summary>
        Native,
    }

    /// <summary>The program a scheduled run starts and the arguments before <c>-ConfigPath</c>; both take the same arguments.</summary>
    public sealed class ScheduledProgram
    {
        /// <summary>The runner's file, in the module's dependencies folder beside the engine.</summary>
        public const string RunnerFileName = "ReplyAdmin.Runner.dll";

        /// <summary>The native runner's file, in <c>dependencies/&lt;<see cref="Platform"/>&gt;/</c>.</summary>
        public static string NativeRunnerFileName { get; } = OperatingSystem.IsWindows() ? "ReplyAdmin.Runner.exe" : "ReplyAdmin.Runner";

        /// <summary>
        /// This machine's platform as .NET names it (<c>linux-x64</c>, <c>linux-arm64</c>, <c>osx-arm64</c>, <c>win-x64</c>):
        /// the folder of the native runner built for it.
        /// </summary>
        public static string Platform { get; } =
            (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

        /// <summary>Where an installation rooted at <paramref name="moduleBase"/> keeps the runner for the dotnet muxer.</summary>
        public static string DotNetRunnerPath(string moduleBase) => System.IO.Path.Combine(moduleBase, "dependencies", RunnerFileName);

        /// <summary>Where an installation rooted at <paramref name="moduleBase"/> keeps the native runner for this platform.</summary>
        public static string NativeRunnerPath(string moduleBase) => System.IO.Path.Combine(moduleBase, "dependencies", Platform, NativeRunnerFileName);

        private ScheduledProgram(ScheduleRunner runner, string path, string[] command)
        {
            Runner = runner;
            Path = path;
            Command = command;
        }

        /// <summary><see cref="ScheduleRunner.Native"/>, <see cref="ScheduleRunner.DotNet"/> or <see cref="ScheduleRunner.PowerShell"/>.</summary>
        public ScheduleRunner Runner { get; }

        /// <summary>The script (Start-ReplyProcessing.ps1) or the runner (ReplyAdmin.Runner.dll, or the native ReplyAdmin.Runner) each run starts.</summary>
        public string Path { get; }

        /// <summary>The program and the arguments before <c>-ConfigPath</c>.</summary>
        public IReadOnlyList<string> Command { get; }

        /// <summary>
        /// The program of a command a schedule runs (<see cref="ScheduleBuilder.ProcessingCommand"/>): what comes before
        /// <c>-ConfigPath</c>, recognised by the file it starts; null when it is none of the three.
        /// </summary>
        public static ScheduledProgram FromCommand(IReadOnlyList<string> command)
        {
            var at = command.ToList().IndexOf("-ConfigPath");
            if (at < 1) return null;
            var started = command[at - 1];
            var head = command.Take(at).ToArray();
            var file = System.IO.Path.GetFileName(started);
            if (file == RunnerFileName) return new ScheduledProgram(ScheduleRunner.DotNet, started, head);
            if (file == NativeRunnerFileName && at == 1) return new ScheduledProgram(ScheduleRunner.Native, started, head);
            if (file == ScheduleBuilder.ScriptName) return new ScheduledProgram(ScheduleRunner.PowerShell, started, head);
            return null;
        }

        /// <summary><c>pwsh -NoProfile -NonInteractive -File script</c>.</summary>
        /// <param name="pwsh">The PowerShell to start, e.g. <c>/usr/bin/pwsh</c>, or <c>dotnet</c> and the path of <c>pwsh.dll</c>.</param>
        /// <param name="scriptPath">Full path of <see cref="ScheduleBuilder.ScriptName"/>.</param>
        public static ScheduledProgram PowerShell(IReadOnlyList<string> pwsh, string scriptPath)
        {
            if (pwsh == null || pwsh.Count == 0) throw new ArgumentException("The PowerShell command is empty.", nameof(pwsh));
            return new ScheduledProgram(ScheduleRunner.PowerShell, scriptPath, pwsh.Concat(new[] { "-NoProfile", "-NonInteractive", "-File", scriptPath }).ToArray());
        }

        /// <summary><c>dotnet ReplyAdmin.Runner.dll</c>.</summary>
        /// <param name="dotnet">Full path of the dotnet program (<see cref="FindDotNet"/>).</param>
        /// <param name="runnerPath">Full path of <see cref="RunnerFileName"/>.</param>
        public static ScheduledProgram DotNet(string dotnet, string runnerPath) =>
            new ScheduledProgram(ScheduleRunner.DotNet, runnerPath, new[] { dotnet, runnerPath });

        /// <summary>The native runner (<see cref="NativeRunnerPath"/>), started as it is.</summary>
        public static ScheduledProgram Native(string runnerPath) =>
            new ScheduledProgram(ScheduleRunner.Native, runnerPath, new[] { runnerPath });

        /// <summary>Whether the file exists and has its owner's execute bit (on Windows: whether it exists).</summary>
        public static bool IsExecutable(string path) =>
            File.Exists(path) && (OperatingSystem.IsWindows() || UnixPermissions.Get(path) is int mode && (mode & (int)UnixFileMode.UserExecute) != 0);

        /// <summary>
        /// Makes the native runner executable: by its owner, and by the group and others where they may read it. A package
        /// (.nupkg) keeps no execute bit, so Install-PSResource leaves the file at 0644. False where it cannot be made
        /// executable (a file of another user without the bit, or no such file).
        /// </summary>
        public static bool MakeExecutable(string path)
        {
            if (IsExecutable(path)) return true;
            if (!(UnixPermissions.Get(path) is int mode)) return false;
            var add = (int)UnixFileMode.UserExecute
                | ((mode & (int)UnixFileMode.GroupRead) != 0 ? (int)UnixFileMode.GroupExecute : 0)
                | ((mode & (int)UnixFileMode.OtherRead) != 0 ? (int)UnixFileMode.OtherExecute : 0);
            return UnixPermissions.Set(path, mode | add);
        }

        /// <summary>
        /// The dotnet program that can start the runner: the first of <c>DOTNET_HOST_PATH</c>, <c>$DOTNET_ROOT/dotnet</c>, the
        /// <c>PATH</c> and the default install folders whose runtimes include .NET 8 or later. Null when there is none.
        /// </summary>
        public static string FindDotNet()
        {
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            var name = windows ? "dotnet.exe" : "dotnet";
            var candidates = new List<string> { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") };
            var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (!string.IsNullOrEmpty(root)) candidates.Add(System.IO.Path.Combine(root, name));
            candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(new[] { System.IO.Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries).Select(d => System.IO.Path.Combine(d, name)));
            candidates.AddRange(windows
                ? new[] { System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), "dotnet", name) }
                : new[] { "/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet", "/usr/local/share/dotnet/dotnet", "/opt/dotnet/dotnet" });
            return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && System.IO.Path.IsPathRooted(c) && HasRuntime(c));
        }

        // The muxer finds its runtimes in shared/Microsoft.NETCore.App/<version> beside its real file (the PATH entry is often a link).
        private static bool HasRuntime(string dotnet)
        {
            try
            {
                var file = new FileInfo(dotnet);
                if (!file.Exists) return false;
                var real = file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file.FullName;
                var runtimes = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(real), "shared", "Microsoft.NETCore.App");
                return Directory.Exists(runtimes) && Directory.EnumerateDirectories(runtimes)
                    .Any(d => Version.TryParse(System.IO.Path.GetFileName(d).Split('-')[0], out var version) && version.Major >= 8);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>The configuration's <c>secret:</c> references, which only PowerShell can resolve.</summary>
        public static string[] SecretReferences(ReplyAdminConfiguration configuration) =>
            CredentialReference.AllIn(configuration).Where(r => r.Source == CredentialSource.Secret).Select(r => r.ToString()).ToArray();
    }
}
