using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Scheduling
{
    /// <summary>
    /// Builds the scheduler texts for unattended processing: systemd units, crontab lines and Windows command
    /// lines, each running <c>Start-ReplyProcessing.ps1 -ConfigPath</c> in PowerShell or the runner with the same arguments (see
    /// <see cref="ScheduledProgram"/>): a run every interval, or (watch) one resident
    /// process that handles replies as they arrive. No PowerShell types; pure text.
    /// </summary>
    public static class ScheduleBuilder
    {
        /// <summary>The script, in the module folder, that one scheduled run starts.</summary>
        public const string ScriptName = "Start-ReplyProcessing.ps1";

        /// <summary>The shortest interval between runs.</summary>
        public static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

        /// <summary>The longest interval between runs.</summary>
        public static readonly TimeSpan MaximumInterval = TimeSpan.FromDays(1);

        // How each unit written here describes itself: Unregister-ReplyProcessingSchedule removes only units that begin a line with it.
        internal const string UnitDescription = "Description=ReplyAdmin: ";

        private static readonly Regex NamePattern = new Regex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);

        /// <summary>Checks a task or unit name: ASCII letters, digits, '_', '.' and '-', at most 64 characters.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleNameInvalid</c>.</exception>
        public static void ValidateName(string name)
        {
            if (name == null || !NamePattern.IsMatch(name) || name.EndsWith(".service", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".timer", StringComparison.OrdinalIgnoreCase))
                throw new ReplyAdminException(ErrorIds.ScheduleNameInvalid, ReplyAdminErrorKind.InvalidArgument,
                    $"'{ConfigurationValidator.Printable(name)}' is not a valid schedule name: use 1 to 64 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit, without .service or .timer.",
                    name, "Use a plain name such as 'ReplyAdmin'; it names the scheduled task or the systemd units.");
        }

        /// <summary>Checks that runs can be scheduled at this interval: whole seconds, from 1 minute to 1 day.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleIntervalUnsupported</c>.</exception>
        public static void ValidateInterval(TimeSpan interval)
        {
            if (interval < MinimumInterval || interval > MaximumInterval || interval.Ticks % TimeSpan.TicksPerSecond != 0)
                throw new ReplyAdminException(ErrorIds.ScheduleIntervalUnsupported, ReplyAdminErrorKind.InvalidArgument,
                    $"An interval of {interval} cannot be scheduled: give whole seconds from 1 minute to 1 day.", interval,
                    "Use e.g. -Interval (New-TimeSpan -Minutes 5).");
        }

        /// <summary>The program and arguments of one run: <paramref name="program"/>, <c>-ConfigPath config</c>, then <paramref name="runArguments"/>.</summary>
        /// <param name="program">Start-ReplyProcessing.ps1 in PowerShell, or the runner.</param>
        /// <param name="configPath">Full path of the configuration file.</param>
        /// <param name="runArguments">Further arguments of the run, e.g. <c>-ThrottleLimit 2</c>; null for none.</param>
        public static string[] ProcessingCommand(ScheduledProgram program, string configPath, IReadOnlyList<string> runArguments = null) =>
            program.Command.Concat(new[] { "-ConfigPath", configPath }).Concat(runArguments ?? new string[0]).ToArray();

        /// <summary>The variable names of the configuration's <c>env:</c> credential references, sorted.</summary>
        public static string[] EnvironmentVariables(ReplyAdminConfiguration configuration) =>
            CredentialReference.AllIn(configuration).Where(r => r.Source == CredentialSource.Environment).Select(r => r.Name)
                .Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToArray();

        /// <summary>A systemd time span such as <c>5min</c>, <c>1h 30min</c> or <c>90s</c>.</summary>
        public static string SystemdTimeSpan(TimeSpan span)
        {
            var parts = new List<string>();
            if (span.Days > 0) parts.Add(span.Days.ToString(CultureInfo.InvariantCulture) + "d");
            if (span.Hours > 0) parts.Add(span.Hours.ToString(CultureInfo.InvariantCulture) + "h");
            if (span.Minutes > 0) parts.Add(span.Minutes.ToString(CultureInfo.InvariantCulture) + "min");
            if (span.Seconds > 0 || parts.Count == 0) parts.Add(span.Seconds.ToString(CultureInfo.InvariantCulture) + "s");
            return string.Join(" ", parts);
        }

        /// <summary>Quotes one argument for a systemd <c>ExecStart=</c> line (double quotes, C escapes, <c>%%</c> and <c>$$</c>).</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleArgumentInvalid</c>: the argument contains a line break or NUL.</exception>
        public static string SystemdQuote(string argument)
        {
            RejectLineBreaks(argument);
            if (argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) && c < 128 || "/._-+:,=@".IndexOf(c) >= 0))
                return argument;
            return "\"" + argument.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("%", "%%").Replace("$", "$$") + "\"";
        }

        /// <summary>The words of an <c>ExecStart=</c> line written with <see cref="SystemdQuote"/>: the command a schedule runs.</summary>
        public static string[] SystemdSplit(string line)
        {
            var words = new List<string>();
            var i = 0;
            while (i < line.Length)
            {
                while (i < line.Length && line[i] == ' ') i++;
                if (i >= line.Length) break;
                var word = new StringBuilder();
                if (line[i] == '"')
                {
                    for (i++; i < line.Length && line[i] != '"'; i++)
                    {
                        if (line[i] == '\\' && i + 1 < line.Length) i++;
                        word.Append(line[i]);
                    }
                    i++; // the closing quote
                }
                else
                {
                    while (i < line.Length && line[i] != ' ') word.Append(line[i++]);
                }
                words.Add(word.Replace("%%", "%").Replace("$$", "$").ToString());
            }
            return words.ToArray();
        }

        /// <summary>A time span as <see cref="SystemdTimeSpan"/> writes it (<c>1h 30min</c>); null when it is not one.</summary>
        public static TimeSpan? ParseSystemdTimeSpan(string text)
        {
            var total = TimeSpan.Zero;
            var parts = (text ?? string.Empty).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var part in parts)
            {
                var match = Regex.Match(part, "^([0-9]+)(d|h|min|s)$", RegexOptions.CultureInvariant);
                if (!match.Success) return null;
                var value = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                total += match.Groups[2].Value == "d" ? TimeSpan.FromDays(value) : match.Groups[2].Value == "h" ? TimeSpan.FromHours(value)
                    : match.Groups[2].Value == "min" ? TimeSpan.FromMinutes(value) : TimeSpan.FromSeconds(value);
            }
            return parts.Length > 0 ? total : (TimeSpan?)null;
        }

        /// <summary>Quotes one argument for a POSIX shell in a crontab line (single quotes; <c>%</c> escaped for cron).</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleArgumentInvalid</c>: the argument contains a line break or NUL.</exception>
        public static string CronQuote(string argument)
        {
            RejectLineBreaks(argument);
            var plain = argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) && c < 128 || "/._-+:,=@".IndexOf(c) >= 0);
            var quoted = plain ? argument : "'" + argument.Replace("'", "'\\''") + "'";
            return quoted.Replace("%", "\\%"); // cron turns an unescaped % into a line break
        }

        /// <summary>Quotes arguments for a Windows command line (the rules of CommandLineToArgvW).</summary>
        public static string WindowsCommandLine(IEnumerable<string> arguments) => string.Join(" ", arguments.Select(WindowsQuote));

        private static string WindowsQuote(string argument)
        {
            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '"' }) < 0)
                return argument;
            var result = new StringBuilder("\"");
            var backslashes = 0;
            foreach (var c in argument)
            {
                if (c == '\\') { backslashes++; continue; }
                if (c == '"') result.Append('\\', backslashes * 2 + 1).Append('"');
                else result.Append('\\', backslashes).Append(c);
                backslashes = 0;
            }
            return result.Append('\\', backslashes * 2).Append('"').ToString();
        }

        /// <summary>
        /// The <c>.service</c> unit: a oneshot run of <paramref name="command"/> that the timer starts, or (with
        /// <paramref name="watchTarget"/>) a resident process that systemd starts at boot and restarts when it fails.
        /// </summary>
        /// <param name="name">Unit name without suffix.</param>
        /// <param name="command">Program and arguments (the program as an absolute path).</param>
        /// <param name="environmentFile">File with the <c>env:</c> credential variables, or null.</param>
        /// <param name="environmentVariables">Names of those variables (for the comment).</param>
        /// <param name="watchTarget">For a resident service, the target that starts it (<c>multi-user.target</c>, or <c>default.target</c> for user units); null for a timer's oneshot run.</param>
        public static string SystemdService(string name, IReadOnlyList<string> command, string environmentFile, IReadOnlyList<string> environmentVariables,
            string watchTarget = null)
        {
            var text = new StringBuilder();
            if (watchTarget == null)
            {
                text.Append("# Written by Register-ReplyProcessingSchedule (ReplyAdmin). One processing run; ").Append(name).Append(".timer starts it.\n");
                text.Append("# Exit codes: 0 all handled, 1 some messages failed (retried next run),\n");
                text.Append("# 2 the run failed, 3 another run was busy (not a failure).\n");
            }
            else
            {
                text.Append("# Written by Register-ReplyProcessingSchedule -Watch (ReplyAdmin). One resident process: it waits for new\n");
                text.Append("# replies (IMAP IDLE) and handles them at once, so no run pays the program's start. Unreachable servers are\n");
                text.Append("# retried inside; it exits 2 only when it cannot go on (e.g. no readable configuration at start), and\n");
                text.Append("# systemd starts it again 30 s later.\n");
            }
            text.Append("[Unit]\n");
            text.Append(UnitDescription).Append("store and forward replies to the mailing lists\n");
            text.Append("Wants=network-online.target\n");
            text.Append("After=network-online.target\n");
            text.Append('\n');
            text.Append("[Service]\n");
            text.Append(watchTarget == null ? "Type=oneshot\n" : "Type=simple\n");
            text.Append("ExecStart=").Append(string.Join(" ", command.Select(SystemdQuote))).Append('\n');
            if (watchTarget == null)
            {
                text.Append("SuccessExitStatus=3\n");
            }
            else
            {
                text.Append("Restart=on-failure\n");
                text.Append("RestartSec=30s\n");
                // systemd's default stop signal, SIGTERM, is handled by Invoke-ReplyProcessing and the runner as Ctrl+C; pwsh's own Ctrl+C
                // handling (SIGINT) gave exit 0 or 1 depending on timing, so the unit does not send SIGINT.
                text.Append("# systemctl stop sends SIGTERM: the run in progress ends at its next step, releases its lease and exits 0.\n");
                text.Append("TimeoutStopSec=90s\n");
            }
            text.Append("# Passwords never go into this file or into Environment= lines (units are world-readable).\n");
            if (environmentFile != null)
            {
                text.Append("# The configuration's env: credential references need ").Append(string.Join(", ", environmentVariables)).Append(":\n");
                text.Append("# put NAME=value lines into the file below, owned by the service's user and readable by it alone (chmod 600).\n");
                RejectLineBreaks(environmentFile);
                text.Append("EnvironmentFile=-").Append(environmentFile.Replace("%", "%%")).Append('\n');
            }
            else
            {
                text.Append("# Credential references of the form env:NAME would be read from an EnvironmentFile= (chmod 600) here.\n");
            }
            if (watchTarget != null)
            {
                text.Append('\n');
                text.Append("[Install]\n");
                text.Append("WantedBy=").Append(watchTarget).Append('\n');
            }
            return text.ToString();
        }

        /// <summary>
        /// The <c>.timer</c> unit: first run 2 minutes after boot (or at once when enabled later), then
        /// <paramref name="interval"/> after each start. No <c>Persistent=</c>: it only applies to calendar timers.
        /// </summary>
        public static string SystemdTimer(string name, TimeSpan interval)
        {
            var text = new StringBuilder();
            text.Append("# Written by Register-ReplyProcessingSchedule (ReplyAdmin).\n");
            text.Append("[Unit]\n");
            text.Append(UnitDescription).Append("process replies every ").Append(SystemdTimeSpan(interval)).Append('\n');
            text.Append('\n');
            text.Append("[Timer]\n");
            text.Append("OnBootSec=2min\n");
            text.Append("OnUnitActiveSec=").Append(SystemdTimeSpan(interval)).Append('\n');
            text.Append("AccuracySec=").Append(SystemdTimeSpan(TimeSpan.FromSeconds(Math.Max(1, Math.Min(60, interval.TotalSeconds / 10))))).Append('\n');
            text.Append("Unit=").Append(name).Append(".service\n");
            text.Append('\n');
            text.Append("[Install]\n");
            text.Append("WantedBy=timers.target\n");
            return text.ToString();
        }

        /// <summary>
        /// The five time fields of a crontab line: <c>*/5 * * * *</c> for minutes that divide an hour,
        /// <c>0 */2 * * *</c> for hours that divide a day.
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleIntervalUnsupported</c>: cron cannot repeat at this interval evenly.</exception>
        public static string CronSchedule(TimeSpan interval)
        {
            if (interval.Ticks % TimeSpan.TicksPerMinute == 0)
            {
                var minutes = (long)interval.TotalMinutes;
                if (minutes >= 1 && minutes < 60 && 60 % minutes == 0)
                    return minutes == 1 ? "* * * * *" : $"*/{minutes} * * * *";
                if (minutes % 60 == 0)
                {
                    var hours = minutes / 60;
                    if (hours >= 1 && hours <= 24 && 24 % hours == 0)
                        return hours == 1 ? "0 * * * *" : hours == 24 ? "0 0 * * *" : $"0 */{hours} * * *";
                }
            }
            throw new ReplyAdminException(ErrorIds.ScheduleIntervalUnsupported, ReplyAdminErrorKind.InvalidArgument,
                $"cron cannot run every {interval}: it repeats evenly only at whole minutes that divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or whole hours that divide a day.",
                interval, "Use e.g. -Interval (New-TimeSpan -Minutes 5), or -Platform Systemd, which takes any interval.");
        }

        /// <summary>A crontab line: schedule, the quoted command, output appended to <paramref name="logPath"/>.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleIntervalUnsupported</c>, <c>ScheduleArgumentInvalid</c>.</exception>
        public static string CronLine(TimeSpan interval, IReadOnlyList<string> command, string logPath) =>
            $"{CronSchedule(interval)} {string.Join(" ", command.Select(CronQuote))} >> {CronQuote(logPath)} 2>&1";

        /// <summary>
        /// Plans a systemd service and timer in <paramref name="unitDirectory"/>, or with <paramref name="watch"/> a
        /// resident service alone (it runs at most <paramref name="interval"/> apart); writes nothing.
        /// </summary>
        public static ProcessingSchedule PlanSystemd(string name, TimeSpan interval, ScheduledProgram program,
            string configPath, string unitDirectory, string environmentFile, IReadOnlyList<string> environmentVariables, bool userUnits,
            IReadOnlyList<string> runArguments = null, bool watch = false)
        {
            var plan = Plan(SchedulePlatform.Systemd, name, interval, program, configPath, environmentVariables, runArguments, watch);
            var variables = plan.EnvironmentVariables;
            var envFile = variables.Length > 0 ? environmentFile : null;
            var systemctl = userUnits ? "systemctl --user" : "systemctl";
            var notes = new List<string>();
            if (envFile != null)
                notes.Add($"Put {string.Join(", ", variables.Select(v => v + "=..."))} into {envFile} and make it readable by the service's user alone (chmod 600).");
            if (userUnits)
                notes.Add("User units run only while the user has a session; 'loginctl enable-linger' keeps them running after logout and from boot.");
            plan.CommandLine = string.Join(" ", plan.Command.Select(SystemdQuote));
            var service = new ScheduleFile { Path = Path.Combine(unitDirectory, name + ".service"),
                Content = SystemdService(name, plan.Command, envFile, variables, watch ? (userUnits ? "default.target" : "multi-user.target") : null) };
            if (watch)
            {
                plan.Files = new[] { service };
                plan.EnableCommand = $"{systemctl} daemon-reload && {systemctl} enable --now {name}.service";
                notes.Add($"A {name}.timer left from a registration without -Watch would start runs beside the resident one: '{systemctl} disable --now {name}.timer' and delete its file.");
            }
            else
            {
                plan.Files = new[] { service, new ScheduleFile { Path = Path.Combine(unitDirectory, name + ".timer"), Content = SystemdTimer(name, interval) } };
                plan.EnableCommand = $"{systemctl} daemon-reload && {systemctl} enable --now {name}.timer";
            }
            plan.EnvironmentFile = envFile;
            plan.Notes = notes.ToArray();
            return plan;
        }

        /// <summary>Plans a crontab line; writes nothing.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleWatchUnsupported</c> with <paramref name="watch"/>: cron starts runs, it keeps no process running.</exception>
        public static ProcessingSchedule PlanCron(string name, TimeSpan interval, ScheduledProgram program,
            string configPath, string logPath, IReadOnlyList<string> environmentVariables, IReadOnlyList<string> runArguments = null, bool watch = false)
        {
            if (watch)
                throw new ReplyAdminException(ErrorIds.ScheduleWatchUnsupported, ReplyAdminErrorKind.InvalidArgument,
                    "cron cannot keep a resident process running or start it again when it ends.", name,
                    "Use -Platform Systemd (or a Windows task) for -Watch, or schedule runs with cron without -Watch.");
            var plan = Plan(SchedulePlatform.Cron, name, interval, program, configPath, environmentVariables, runArguments);
            var notes = new List<string> { "Add the line with 'crontab -e' as the user that runs ReplyAdmin; cron does not overlap-protect, the processing's own lock does." };
            if (plan.EnvironmentVariables.Length > 0)
                notes.Add($"cron starts jobs without your login environment, so {string.Join(", ", plan.EnvironmentVariables)} will not be set: use file: references (a file readable by its owner alone) or secret: references instead of env:.");
            plan.CommandLine = string.Join(" ", plan.Command.Select(CronQuote));
            plan.CronLine = CronLine(interval, plan.Command, logPath);
            plan.LogPath = logPath;
            plan.EnableCommand = "crontab -e";
            plan.Notes = notes.ToArray();
            return plan;
        }

        /// <summary>
        /// Plans a Windows scheduled task (with <paramref name="watch"/>: one started at boot that keeps running);
        /// registering it is up to the caller (it needs the ScheduledTasks module).
        /// </summary>
        public static ProcessingSchedule PlanWindows(string name, TimeSpan interval, ScheduledProgram program, string configPath,
            IReadOnlyList<string> environmentVariables, IReadOnlyList<string> runArguments = null, bool watch = false)
        {
            var plan = Plan(SchedulePlatform.Windows, name, interval, program, configPath, environmentVariables, runArguments, watch);
            var notes = new List<string> { "The task runs as the registering user whether logged on or not (S4U logon, no stored password); registering it needs an elevated session." };
            if (plan.EnvironmentVariables.Length > 0)
                notes.Add($"The task sees machine and user environment variables only: set {string.Join(", ", plan.EnvironmentVariables)} for the user (not in the task), or use secret: references.");
            plan.CommandLine = WindowsCommandLine(plan.Command);
            plan.Notes = notes.ToArray();
            return plan;
        }

        // What every platform's plan shares: the checks, the command that runs the processing, the variables it needs.
        // A resident process is the same script with -Watch; the interval becomes its longest wait between two runs.
        private static ProcessingSchedule Plan(SchedulePlatform platform, string name, TimeSpan interval, ScheduledProgram program,
            string configPath, IReadOnlyList<string> environmentVariables, IReadOnlyList<string> runArguments, bool watch = false)
        {
            ValidateName(name);
            ValidateInterval(interval);
            var arguments = (runArguments ?? new string[0]).ToList();
            if (watch)
                arguments.AddRange(new[] { "-Watch", "-WatchIntervalSeconds", ((long)interval.TotalSeconds).ToString(CultureInfo.InvariantCulture) });
            return new ProcessingSchedule
            {
                Name = name,
                Platform = platform,
                Interval = interval,
                Watch = watch,
                ConfigPath = configPath,
                ScriptPath = program.Path,
                RunWith = program.Runner,
                Command = ProcessingCommand(program, configPath, arguments),
                EnvironmentVariables = (environmentVariables ?? new string[0]).ToArray(),
            };
        }

        private static void RejectLineBreaks(string argument)
        {
            if (argument == null) throw new ArgumentNullException(nameof(argument));
            if (argument.IndexOfAny(new[] { '\r', '\n', '\0' }) >= 0)
                throw new ReplyAdminException(ErrorIds.ScheduleArgumentInvalid, ReplyAdminErrorKind.InvalidArgument,
                    $"'{ConfigurationValidator.Printable(argument)}' cannot be part of a scheduled command: it contains a line break or NUL.", argument,
                    "Move the module or the configuration file to a path without line breaks.");
        }
    }
}
