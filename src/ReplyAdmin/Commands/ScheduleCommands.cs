using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Scheduling;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Schedules unattended reply processing: a Windows scheduled task, a systemd service and timer, or a cron line.
    /// Each run starts the runner (the native ReplyAdmin.Runner or 'dotnet ReplyAdmin.Runner.dll', see -RunWith) or Start-ReplyProcessing.ps1 in a fresh
    /// 'pwsh -NoProfile -NonInteractive', from the module folder with an absolute -ConfigPath; with -Watch, one resident process instead (a systemd
    /// service or a task started at boot) that handles replies as they arrive. On Windows it registers a scheduled task (ScheduledTasks
    /// module); on Linux it writes &lt;Name&gt;.service and &lt;Name&gt;.timer and enables the timer when systemd runs and no
    /// -OutputPath is given; with -Platform Cron it returns the crontab line. Passwords are never written into any of these:
    /// env: credential references are read from an EnvironmentFile (chmod 600). -WhatIf shows the files and creates nothing.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Register, "ReplyProcessingSchedule", SupportsShouldProcess = true)]
    [OutputType(typeof(ProcessingSchedule))]
    public sealed class RegisterReplyProcessingScheduleCommand : ReplyAdminCmdlet
    {
        private const string Caption = "Register-ReplyProcessingSchedule";
        private List<string> _runArguments;

        /// <summary>Time between runs (default 5 minutes; 1 minute to 1 day; for cron, minutes that divide an hour or hours that divide a day); with -Watch, the longest wait between two runs.</summary>
        [Parameter(Position = 0)]
        public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Name of the scheduled task or of the systemd units (default ReplyAdmin).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "ReplyAdmin";

        /// <summary>Auto (default), Windows, Systemd or Cron.</summary>
        [Parameter]
        public SchedulePlatform Platform { get; set; } = SchedulePlatform.Auto;

        /// <summary>Directory for the systemd unit files. Given, the units are only written, not enabled. Default: /etc/systemd/system as root, else ~/.config/systemd/user.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string OutputPath { get; set; }

        /// <summary>Cron only: the file each run's output is appended to. Default: &lt;Name&gt;.log next to the configuration file.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string LogPath { get; set; }

        /// <summary>How many batches each run handles at once (Invoke-ReplyProcessing -ThrottleLimit); default: the run's own default.</summary>
        [Parameter]
        [ValidateRange(1, Engine.Processing.ProcessingOptions.MaxThrottleLimit)]
        public int ThrottleLimit { get; set; }

        /// <summary>Permanent failures after which a message is set aside (Invoke-ReplyProcessing -MaxAttempts); default: the run's own default.</summary>
        [Parameter]
        [ValidateRange(0, 1000)]
        public int MaxAttempts { get; set; } = -1;

        /// <summary>
        /// What each run starts: Native (the runner compiled for this platform, dependencies/&lt;platform&gt;/ReplyAdmin.Runner: an
        /// idle run in about 0.3 s), DotNet (the runner, 'dotnet ReplyAdmin.Runner.dll': no PowerShell start, an idle run in
        /// about a second), PowerShell (Start-ReplyProcessing.ps1), or Auto (default): Native where the installation has it,
        /// else DotNet where a .NET 8 or later runtime is installed, else PowerShell; PowerShell for a configuration with
        /// secret: references.
        /// </summary>
        [Parameter]
        public ScheduleRunner RunWith { get; set; } = ScheduleRunner.Auto;

        /// <summary>The PowerShell each run starts (implies -RunWith PowerShell): the path of the pwsh executable (or of pwsh.dll, run with dotnet). Default: the PowerShell of this session.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string PwshPath { get; set; }

        /// <summary>
        /// One resident process instead of a run every -Interval: it waits for new replies (IMAP IDLE), handles them at once
        /// and looks at least every -Interval. A systemd service started at boot and restarted when it fails, or a Windows
        /// task started at boot; not for cron.
        /// </summary>
        [Parameter]
        public SwitchParameter Watch { get; set; }

        /// <summary>Output what was (or, with -WhatIf, would be) created. A cron line is always output.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var configPath = Path.GetFullPath(ResolvedConfigPath);
            var configuration = LoadConfiguration();
            if (!File.Exists(configPath))
                WriteWarning($"The configuration file {configPath} does not exist yet; scheduled runs fail until it is configured.");
            var program = Program(configuration);
            var variables = ScheduleBuilder.EnvironmentVariables(configuration);
            var run = new List<string>();
            if (ThrottleLimit > 0) run.AddRange(new[] { "-ThrottleLimit", ThrottleLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            if (MaxAttempts >= 0) run.AddRange(new[] { "-MaxAttempts", MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            _runArguments = run;

            switch (ResolvePlatform())
            {
                case SchedulePlatform.Windows:
                    RegisterWindows(program, configPath, variables);
                    break;
                case SchedulePlatform.Cron:
                    var log = LogPath != null
                        ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath)
                        : Path.Combine(Path.GetDirectoryName(configPath), Name + ".log");
                    var cron = Invoke(() => ScheduleBuilder.PlanCron(Name, Interval, program, configPath, log, variables, _runArguments, Watch));
                    foreach (var note in cron.Notes) WriteVerbose(note);
                    WriteObject(cron);
                    break;
                default:
                    RegisterSystemd(program, configPath, variables);
                    break;
            }
        }

        private void RegisterSystemd(ScheduledProgram program, string configPath, string[] variables)
        {
            var root = SystemdScheduler.IsRoot;
            var directory = OutputPath != null
                ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath)
                : SystemdScheduler.DefaultUnitDirectory(root);
            var plan = Invoke(() => ScheduleBuilder.PlanSystemd(Name, Interval, program, configPath, directory,
                SystemdScheduler.DefaultEnvironmentFile(Name, root), variables, userUnits: !root, _runArguments, Watch));
            var unit = Name + (Watch ? ".service" : ".timer");

            var written = 0;
            foreach (var file in plan.Files)
            {
                if (!ShouldProcess($"Write the systemd unit {file.Path}:\n{file.Content}", $"Write the systemd unit {file.Path}?", Caption))
                    continue;
                Invoke(() => { SystemdScheduler.WriteFile(file); return 0; });
                WriteVerbose($"Wrote {file.Path}.");
                written++;
            }
            plan.Applied = written == plan.Files.Length;

            if (plan.Applied)
            {
                if (OutputPath == null && SystemdScheduler.IsRunning)
                {
                    if (ShouldProcess($"Run: {plan.EnableCommand}", $"Run {plan.EnableCommand}?", Caption))
                    {
                        Invoke(() => { SystemdScheduler.Enable(unit, userUnits: !root); return 0; });
                        plan.Enabled = true;
                        WriteVerbose($"Enabled {unit}: {(Watch ? "one resident process, a run at least every " : "a run every ")}{ScheduleBuilder.SystemdTimeSpan(Interval)}. 'journalctl {(root ? "" : "--user ")}-u {Name}.service' shows the runs.");
                    }
                }
                else
                {
                    var where = OutputPath != null
                        ? $"Copy {string.Join(" and ", Array.ConvertAll(plan.Files, f => Path.GetFileName(f.Path)))} to {SystemdScheduler.DefaultUnitDirectory(root)} on the machine that runs ReplyAdmin, then activate {unit}"
                        : $"systemd is not running here; where it runs, activate {unit}";
                    WriteHostInformation($"{where}: {plan.EnableCommand}");
                }
            }
            foreach (var note in plan.Notes) WriteHostInformation(note);
            if (PassThru) WriteObject(plan);
        }

        private void RegisterWindows(ScheduledProgram program, string configPath, string[] variables)
        {
            if (InvokeCommand.GetCommand("Register-ScheduledTask", CommandTypes.Cmdlet | CommandTypes.Function) == null)
                ThrowTerminatingError(Error(ErrorIds.ScheduledTasksUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                    "The ScheduledTasks module (Register-ScheduledTask) is not available in this session.", "ScheduledTasks",
                    "Run on Windows 8 / Server 2012 or later, or use -Platform Cron to get a command line to schedule yourself."));
            var plan = Invoke(() => ScheduleBuilder.PlanWindows(Name, Interval, program, configPath, variables, _runArguments, Watch));
            var arguments = ScheduleBuilder.WindowsCommandLine(new List<string>(plan.Command).GetRange(1, plan.Command.Length - 1));
            var when = Watch ? $"at boot, resident, a run at least every {Interval}" : $"every {Interval}";
            if (ShouldProcess($"Register the scheduled task '{Name}', {when}: {plan.CommandLine}", $"Register the scheduled task '{Name}'?", Caption))
            {
                try
                {
                    // Resident (-Watch): started at boot and now, never stopped for running long, restarted when it fails.
                    InvokeCommand.InvokeScript(@"
param($Name, $Execute, $Arguments, $Interval, $WorkingDirectory, $Description, $Watch)
$action = New-ScheduledTaskAction -Execute $Execute -Argument $Arguments -WorkingDirectory $WorkingDirectory
if ($Watch) {
    $trigger = New-ScheduledTaskTrigger -AtStartup
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval ([TimeSpan]::FromMinutes(1))
} else {
    $trigger = New-ScheduledTaskTrigger -Once -At ((Get-Date).AddMinutes(1)) -RepetitionInterval $Interval
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable -ExecutionTimeLimit ([TimeSpan]::FromHours(12))
}
$principal = New-ScheduledTaskPrincipal -UserId ([Security.Principal.WindowsIdentity]::GetCurrent().Name) -LogonType S4U -RunLevel Limited
Register-ScheduledTask -TaskName $Name -Action $action -Trigger $trigger -Settings $settings -Principal $principal -Description $Description -Force -ErrorAction Stop | Out-Null
if ($Watch) { Start-ScheduledTask -TaskName $Name -ErrorAction Stop }
", true, System.Management.Automation.Runspaces.PipelineResultTypes.None, null,
                        Name, plan.Command[0], arguments, Interval, Path.GetDirectoryName(program.Path),
                        Watch ? "ReplyAdmin: store and forward replies to the mailing lists as they arrive (resident). Exit codes: 0 stopped, 2 the configuration cannot be read."
                            : "ReplyAdmin: store and forward replies to the mailing lists. Exit codes: 0 all handled, 1 some messages failed, 2 run failed, 3 another run busy.",
                        Watch.IsPresent);
                }
                catch (RuntimeException e)
                {
                    ThrowTerminatingError(Error(ErrorIds.ScheduleRegisterFailed, ReplyAdminErrorKind.NotSpecified,
                        $"The scheduled task '{Name}' could not be registered: {e.Message}", Name,
                        "Run PowerShell as administrator (an S4U task needs it), then try again."));
                }
                plan.Applied = plan.Enabled = true;
                WriteVerbose($"Registered the scheduled task '{Name}': {when}, {plan.CommandLine}");
            }
            foreach (var note in plan.Notes) WriteHostInformation(note);
            if (PassThru) WriteObject(plan);
        }

        private SchedulePlatform ResolvePlatform()
        {
            if (Platform != SchedulePlatform.Auto)
                return Platform;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return SchedulePlatform.Windows;
            return RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? SchedulePlatform.Systemd : SchedulePlatform.Cron;
        }

        // -RunWith: the native runner, else the runner for dotnet, where each can run (its file, a .NET runtime, no secret:
        // reference), else PowerShell; each choice said in -Verbose.
        private ScheduledProgram Program(ReplyAdminConfiguration configuration)
        {
            var moduleBase = MyInvocation.MyCommand.Module?.ModuleBase;
            if (string.IsNullOrEmpty(moduleBase))
                moduleBase = Path.GetDirectoryName(typeof(RegisterReplyProcessingScheduleCommand).Assembly.Location);
            var auto = RunWith == ScheduleRunner.Auto && PwshPath == null;
            if (auto || RunWith == ScheduleRunner.Native || RunWith == ScheduleRunner.DotNet)
            {
                var secrets = ScheduledProgram.SecretReferences(configuration);
                var secret = secrets.Length > 0
                    ? $"the configuration has secret: references ({string.Join(", ", secrets)}), which only PowerShell's SecretManagement can read"
                    : null;
                if (auto || RunWith == ScheduleRunner.Native)
                {
                    var native = ScheduledProgram.NativeRunnerPath(moduleBase);
                    var missing = secret
                        ?? (!File.Exists(native) ? $"this installation has no native runner for {ScheduledProgram.Platform} ({native}; build.ps1 compiles it where gcc or clang is installed)"
                        : !Executable(native) ? $"{native} is not executable and this user cannot make it so (chmod +x)"
                        : null);
                    if (missing == null)
                    {
                        WriteVerbose($"Each run starts the native runner {native}: no PowerShell and no .NET runtime to start.");
                        return ScheduledProgram.Native(native);
                    }
                    if (RunWith == ScheduleRunner.Native)
                        ThrowTerminatingError(Error(ErrorIds.ScheduleRunnerUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                            $"Runs cannot start the native runner: {missing}.", native,
                            "Use -RunWith Auto, DotNet or PowerShell, or use env: or file: references instead of secret:."));
                    WriteVerbose($"Not the native runner: {missing}.");
                }
                if (auto || RunWith == ScheduleRunner.DotNet)
                {
                    var runner = ScheduledProgram.DotNetRunnerPath(moduleBase);
                    var dotnet = File.Exists(runner) && secret == null ? ScheduledProgram.FindDotNet() : null;
                    var missing = !File.Exists(runner) ? $"the runner {runner} is not part of this installation"
                        : secret
                        ?? (dotnet == null ? "no dotnet with a .NET 8 or later runtime was found (DOTNET_HOST_PATH, DOTNET_ROOT, PATH, the default install folders)" : null);
                    if (missing == null)
                    {
                        WriteVerbose($"Each run starts the runner with {dotnet}: no PowerShell start.");
                        return ScheduledProgram.DotNet(dotnet, runner);
                    }
                    if (RunWith == ScheduleRunner.DotNet)
                        ThrowTerminatingError(Error(ErrorIds.ScheduleRunnerUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                            $"Runs cannot start the runner: {missing}.", runner,
                            "Use -RunWith PowerShell (or Auto); for the runner, install a .NET 8 or later runtime, or use env: or file: references instead of secret:."));
                    WriteVerbose($"Each run starts PowerShell: {missing}.");
                }
            }
            var script = Path.Combine(moduleBase, ScheduleBuilder.ScriptName);
            if (!File.Exists(script))
                WriteWarning($"{script} does not exist; scheduled runs will fail. Reinstall the module.");
            return ScheduledProgram.PowerShell(PwshPath != null ? GivenPwsh() : PwshCommand(), script);
        }

        // A package keeps no execute bit: Install-PSResource leaves the native runner at 0644. Made executable here (a change,
        // so -WhatIf only says it would be, and plans the native runner all the same).
        private bool Executable(string native) =>
            ScheduledProgram.IsExecutable(native)
            || (ShouldProcess($"Make {native} executable (chmod +x)", $"Make {native} executable?", Caption)
                ? ScheduledProgram.MakeExecutable(native)
                : MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) && ((SwitchParameter)whatIf).IsPresent);

        // -PwshPath: an installed pwsh (not the one in a NuGet tool cache this session may run from), or a pwsh.dll for dotnet.
        private string[] GivenPwsh()
        {
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(PwshPath);
            if (!File.Exists(path))
                ThrowTerminatingError(Error(ErrorIds.PwshNotFound, ReplyAdminErrorKind.ObjectNotFound, $"No PowerShell at '{path}'.", path,
                    "Give the path of an installed pwsh, e.g. -PwshPath /usr/bin/pwsh (see 'Get-Command pwsh')."));
            if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                return new[] { path };
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return new[] { string.IsNullOrEmpty(dotnet) ? "dotnet" : dotnet, path };
        }

        /// <summary>
        /// The PowerShell running this session as a command: <c>pwsh</c> or <c>powershell.exe</c> itself, or
        /// <c>dotnet</c> with <c>$PSHOME/pwsh.dll</c> when PowerShell runs as a .NET tool.
        /// </summary>
        private string[] PwshCommand()
        {
            var psHome = SessionState.PSVariable.GetValue("PSHOME") as string ?? string.Empty;
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            string process = null;
            try
            {
                using (var current = Process.GetCurrentProcess())
                    process = current.MainModule?.FileName;
            }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is NotSupportedException)
            {
                // a restricted host: fall back to $PSHOME
            }
            var name = process == null ? string.Empty : Path.GetFileNameWithoutExtension(process).ToLowerInvariant();
            var dll = Path.Combine(psHome, "pwsh.dll");
            if (name == "pwsh" || name == "powershell")
                return new[] { process };
            if (name == "dotnet" && File.Exists(dll))
                return new[] { process, dll };
            foreach (var candidate in new[] { Path.Combine(psHome, windows ? "pwsh.exe" : "pwsh"), Path.Combine(psHome, "powershell.exe") })
                if (File.Exists(candidate))
                    return new[] { candidate };
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (File.Exists(dll) && !string.IsNullOrEmpty(dotnet) && File.Exists(dotnet))
                return new[] { dotnet, dll };
            ThrowTerminatingError(Error(ErrorIds.PwshNotFound, ReplyAdminErrorKind.ObjectNotFound,
                $"The PowerShell executable of this session cannot be found (process '{process}', PSHOME '{psHome}').", psHome,
                "Run Register-ReplyProcessingSchedule from pwsh itself."));
            return null; // not reached
        }
    }

    /// <summary>
    /// What the cmdlets that find schedules Register-ReplyProcessingSchedule created share: the scheduler, the unit
    /// directory, and their errors. They read no configuration, so they have no -ConfigPath.
    /// </summary>
    public abstract class ScheduleLookupCmdlet : PSCmdlet
    {
        /// <summary>Auto (default: a scheduled task on Windows, systemd elsewhere), Windows or Systemd. Cron is refused: Register-ReplyProcessingSchedule installs no cron line.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public SchedulePlatform Platform { get; set; } = SchedulePlatform.Auto;

        /// <summary>The directory given to Register-ReplyProcessingSchedule -OutputPath. Default: /etc/systemd/system as root, else ~/.config/systemd/user.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string OutputPath { get; set; }

        /// <summary>Where the systemd units are: -OutputPath, else the default unit directory of this user.</summary>
        protected string UnitDirectory => OutputPath != null
            ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath)
            : SystemdScheduler.DefaultUnitDirectory(SystemdScheduler.IsRoot);

        /// <summary>-Platform, with Auto resolved; a terminating ScheduleCronNotInstalled error for Cron.</summary>
        protected SchedulePlatform ResolvePlatform(string name)
        {
            var platform = Platform != SchedulePlatform.Auto ? Platform
                : RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? SchedulePlatform.Windows : SchedulePlatform.Systemd;
            if (platform == SchedulePlatform.Cron)
                Fail(new ReplyAdminException(ErrorIds.ScheduleCronNotInstalled, ReplyAdminErrorKind.InvalidArgument,
                    "Register-ReplyProcessingSchedule -Platform Cron installs nothing: it only returns the crontab line.", name,
                    $"See it with 'crontab -l' and change it with 'crontab -e' (it appends to {name}.log unless -LogPath named another file)."));
            return platform;
        }

        /// <summary>A terminating error when the ScheduledTasks module is missing.</summary>
        protected void RequireScheduledTasks(string command)
        {
            if (InvokeCommand.GetCommand(command, CommandTypes.Cmdlet | CommandTypes.Function) == null)
                Fail(new ReplyAdminException(ErrorIds.ScheduledTasksUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                    $"The ScheduledTasks module ({command}) is not available in this session.", "ScheduledTasks", "Run on Windows 8 / Server 2012 or later."));
        }

        /// <summary>Runs an engine call; an engine error becomes a terminating error record, the same way as in every ReplyAdmin cmdlet.</summary>
        protected T Invoke<T>(Func<T> call) => ReplyAdminCmdlet.Invoke(this, call);

        /// <summary>Ends the command with the error record of <paramref name="e"/>.</summary>
        protected void Fail(ReplyAdminException e) => ThrowTerminatingError(ReplyAdminCmdlet.ToErrorRecord(e));

        /// <summary>Tells the user something, as Register-ReplyProcessingSchedule's notes (information stream, shown by the console).</summary>
        protected void WriteNote(string message) => ReplyAdminCmdlet.WriteHostInformation(this, message);
    }

    /// <summary>
    /// Lists the schedules Register-ReplyProcessingSchedule created, as their systemd units or Windows tasks say: what each
    /// run starts, with which configuration, how often, and whether the scheduler has it enabled.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyProcessingSchedule")]
    [OutputType(typeof(ProcessingSchedule))]
    public sealed class GetReplyProcessingScheduleCommand : ScheduleLookupCmdlet
    {
        /// <summary>Names of the schedules (wildcards allowed); default: all of them.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ScheduleNameCompleter))]
        public string[] Name { get; set; } = { "*" };

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (ResolvePlatform(Name[0]) == SchedulePlatform.Windows)
            {
                GetWindows();
                return;
            }
            var directory = UnitDirectory;
            var names = SystemdScheduler.ScheduleNames(directory);
            var systemctl = OutputPath == null && SystemdScheduler.IsRunning;
            foreach (var pattern in Name)
            {
                var matching = names.Where(n => new WildcardPattern(pattern, WildcardOptions.IgnoreCase).IsMatch(n)).ToList();
                if (matching.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                {
                    try { SystemdScheduler.FindUnits(pattern, directory); } // says why: no such units, not ReplyAdmin's, or an invalid name
                    catch (ReplyAdminException e) { WriteError(ReplyAdminCmdlet.ToErrorRecord(e)); }
                    continue;
                }
                foreach (var name in matching)
                {
                    ProcessingSchedule schedule;
                    try
                    {
                        schedule = SystemdScheduler.Read(name, directory);
                    }
                    catch (ReplyAdminException e)
                    {
                        WriteError(ReplyAdminCmdlet.ToErrorRecord(e));
                        continue;
                    }
                    schedule.Enabled = systemctl && SystemdScheduler.IsEnabled(name + (schedule.Watch ? ".service" : ".timer"), !SystemdScheduler.IsRoot);
                    WriteObject(schedule);
                }
            }
        }

        private void GetWindows()
        {
            RequireScheduledTasks("Get-ScheduledTask");
            var tasks = InvokeCommand.InvokeScript(@"
param($Patterns)
foreach ($task in Get-ScheduledTask -ErrorAction SilentlyContinue | Where-Object { $_.Description -like 'ReplyAdmin:*' }) {
    if (-not ($Patterns | Where-Object { $task.TaskName -like $_ })) { continue }
    $action = @($task.Actions)[0]
    [pscustomobject]@{ Name = $task.TaskName; Execute = $action.Execute; Arguments = $action.Arguments; Resident = $task.Description -like '*(resident)*'; Enabled = $task.State -ne 'Disabled' }
}", true, System.Management.Automation.Runspaces.PipelineResultTypes.None, null, new object[] { Name });
            foreach (var task in tasks)
            {
                var arguments = task.Properties["Arguments"].Value as string;
                WriteObject(new ProcessingSchedule
                {
                    Name = task.Properties["Name"].Value as string,
                    Platform = SchedulePlatform.Windows,
                    Watch = task.Properties["Resident"].Value is bool resident && resident,
                    CommandLine = ScheduleBuilder.WindowsCommandLine(new[] { task.Properties["Execute"].Value as string }) + (string.IsNullOrEmpty(arguments) ? "" : " " + arguments),
                    Applied = true,
                    Enabled = task.Properties["Enabled"].Value is bool enabled && enabled,
                });
            }
        }
    }

    /// <summary>
    /// Removes a schedule Register-ReplyProcessingSchedule created. On Linux it stops and disables the systemd timer and
    /// service (systemctl disable --now: no more runs, and a run or resident process in progress ends at its next step and
    /// gives its lease back), deletes their unit files and reloads systemd; with -OutputPath it only deletes the files
    /// there. On Windows it stops and removes the scheduled task. It removes only units and tasks that
    /// Register-ReplyProcessingSchedule wrote, and leaves the EnvironmentFile with the values of env: references in place.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Unregister, "ReplyProcessingSchedule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ProcessingSchedule))]
    public sealed class UnregisterReplyProcessingScheduleCommand : ScheduleLookupCmdlet
    {
        private const string Caption = "Unregister-ReplyProcessingSchedule";

        /// <summary>Name of the scheduled task or of the systemd units, as given to Register-ReplyProcessingSchedule (default ReplyAdmin).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ScheduleNameCompleter))]
        public string Name { get; set; } = "ReplyAdmin";

        /// <summary>Output what was (or, with -WhatIf, would be) removed.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var schedule = ResolvePlatform(Name) == SchedulePlatform.Windows ? UnregisterWindows() : UnregisterSystemd();
            foreach (var note in schedule.Notes) WriteNote(note);
            if (PassThru) WriteObject(schedule);
        }

        private ProcessingSchedule UnregisterSystemd()
        {
            var root = SystemdScheduler.IsRoot;
            var directory = UnitDirectory;
            var schedule = Invoke(() => SystemdScheduler.Read(Name, directory));
            schedule.Applied = false; // here: removed
            var units = schedule.Files;
            var names = units.Select(u => Path.GetFileName(u.Path)).ToArray();
            var systemctl = OutputPath == null && SystemdScheduler.IsRunning;
            var action = (systemctl ? $"Stop and disable {string.Join(" and ", names)} (systemctl{(root ? "" : " --user")} disable --now), then delete " : "Delete ")
                + string.Join(" and ", units.Select(u => u.Path));
            if (!ShouldProcess(action, action + "?", Caption))
                return schedule;
            if (systemctl)
            {
                Invoke(() => { SystemdScheduler.Disable(names, userUnits: !root); return 0; });
                WriteVerbose($"Stopped and disabled {string.Join(" and ", names)}.");
            }
            Invoke(() => { SystemdScheduler.DeleteUnits(units, userUnits: !root, reload: systemctl); return 0; });
            foreach (var unit in units) WriteVerbose($"Deleted {unit.Path}.");
            schedule.Applied = true;
            var notes = new List<string>();
            if (OutputPath == null && !SystemdScheduler.IsRunning)
                notes.Add($"systemd is not running here, so {string.Join(" and ", names)} could not be disabled: remove their links under {directory}/*.wants/ if any are left.");
            var environmentFile = SystemdScheduler.DefaultEnvironmentFile(Name, root);
            if (OutputPath == null && File.Exists(environmentFile))
                notes.Add($"{environmentFile} is left in place: it holds the values of the env: references. Delete it when no schedule needs them.");
            schedule.Notes = notes.ToArray();
            return schedule;
        }

        private ProcessingSchedule UnregisterWindows()
        {
            RequireScheduledTasks("Unregister-ScheduledTask");
            var found = InvokeCommand.InvokeScript("param($Name) @(Get-ScheduledTask -TaskName $Name -ErrorAction SilentlyContinue | ForEach-Object Description)",
                true, System.Management.Automation.Runspaces.PipelineResultTypes.None, null, Name);
            if (found.Count == 0)
                Fail(new ReplyAdminException(ErrorIds.ScheduleNotFound, ReplyAdminErrorKind.ObjectNotFound, $"There is no scheduled task '{Name}'.", Name,
                    "Give the -Name used with Register-ReplyProcessingSchedule (Get-ReplyProcessingSchedule lists them)."));
            if (!(found[0]?.BaseObject is string description && description.StartsWith("ReplyAdmin:", StringComparison.Ordinal)))
                Fail(new ReplyAdminException(ErrorIds.ScheduleNotReplyAdmin, ReplyAdminErrorKind.InvalidArgument,
                    $"The scheduled task '{Name}' was not registered by Register-ReplyProcessingSchedule; nothing was removed.", Name,
                    "Check -Name: it is the name given to Register-ReplyProcessingSchedule (default ReplyAdmin)."));
            var schedule = new ProcessingSchedule { Name = Name, Platform = SchedulePlatform.Windows };
            if (!ShouldProcess($"Stop and remove the scheduled task '{Name}'", $"Remove the scheduled task '{Name}'?", Caption))
                return schedule;
            try
            {
                InvokeCommand.InvokeScript("param($Name) Stop-ScheduledTask -TaskName $Name -ErrorAction SilentlyContinue; Unregister-ScheduledTask -TaskName $Name -Confirm:$false -ErrorAction Stop",
                    true, System.Management.Automation.Runspaces.PipelineResultTypes.None, null, Name);
            }
            catch (RuntimeException e)
            {
                Fail(new ReplyAdminException(ErrorIds.ScheduleRemoveFailed, ReplyAdminErrorKind.NotSpecified,
                    $"The scheduled task '{Name}' could not be removed: {e.Message}", Name, "Run PowerShell as administrator, then try again.", e));
            }
            WriteVerbose($"Removed the scheduled task '{Name}'.");
            schedule.Applied = true;
            return schedule;
        }
    }

    /// <summary>Completes the names of the schedules in the systemd unit directory (the -OutputPath typed, else the default one).</summary>
    public sealed class ScheduleNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
        {
            var directory = ListNameCompleter.BoundString(fakeBoundParameters, "OutputPath") ?? SystemdScheduler.DefaultUnitDirectory(SystemdScheduler.IsRoot);
            var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            foreach (var name in SystemdScheduler.ScheduleNames(directory).Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase)))
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, name);
        }
    }
}
