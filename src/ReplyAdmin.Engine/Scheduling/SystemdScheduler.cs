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
    /// <summary>Writes systemd units and activates them with systemctl; finds, deactivates and deletes them again.</summary>
    public static class SystemdScheduler
    {
        /// <summary>True when systemd is the running init system (<c>/run/systemd/system</c> exists).</summary>
        public static bool IsRunning => Directory.Exists("/run/systemd/system");

        /// <summary>True when the process runs as root.</summary>
        public static bool IsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

        /// <summary><c>/etc/systemd/system</c> for root, else <c>$XDG_CONFIG_HOME/systemd/user</c> (<c>~/.config/systemd/user</c>).</summary>
        public static string DefaultUnitDirectory(bool root)
        {
            if (root) return "/etc/systemd/system";
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(xdg))
                xdg = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(xdg, "systemd", "user");
        }

        /// <summary><c>/etc/replyadmin/&lt;name&gt;.env</c> for root, else <c>~/.config/replyadmin/&lt;name&gt;.env</c>.</summary>
        public static string DefaultEnvironmentFile(string name, bool root)
        {
            if (root) return $"/etc/replyadmin/{name}.env";
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(xdg))
                xdg = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(xdg, "replyadmin", name + ".env");
        }

        /// <summary>Writes one unit file (UTF-8, no BOM, mode 0644 by the umask), creating the directory.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleWriteFailed</c>.</exception>
        public static void WriteFile(ScheduleFile file)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file.Path));
                var temporary = file.Path + ".tmp";
                File.WriteAllText(temporary, file.Content, new UTF8Encoding(false));
                if (File.Exists(file.Path)) File.Delete(file.Path);
                File.Move(temporary, file.Path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.ScheduleWriteFailed, ReplyAdminErrorKind.WriteError,
                    $"The file '{file.Path}' cannot be written: {e.Message}", file.Path,
                    "Run as root for /etc/systemd/system, or give -OutputPath a directory you can write.", e);
            }
        }

        /// <summary>Runs <c>systemctl [--user] daemon-reload</c> and <c>enable --now &lt;unit&gt;</c> (the timer, or a resident service).</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleEnableFailed</c>: systemctl failed.</exception>
        public static void Enable(string unit, bool userUnits)
        {
            const string advice = "Run the command yourself to see the cause; the unit files are in place.";
            Systemctl(userUnits, new[] { "daemon-reload" }, ErrorIds.ScheduleEnableFailed, advice);
            Systemctl(userUnits, new[] { "enable", "--now", unit }, ErrorIds.ScheduleEnableFailed, advice);
        }

        /// <summary>
        /// The unit files of the schedule <paramref name="name"/> in <paramref name="directory"/>, as Register-ReplyProcessingSchedule
        /// plans them: its service, and its timer (none for a resident -Watch schedule).
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleNameInvalid</c>; <c>ScheduleNotFound</c>: neither file is there;
        /// <c>ScheduleNotReplyAdmin</c>: a file of that name was not written by Register-ReplyProcessingSchedule.</exception>
        public static ScheduleFile[] FindUnits(string name, string directory)
        {
            ScheduleBuilder.ValidateName(name);
            var units = new List<ScheduleFile>();
            foreach (var path in new[] { Path.Combine(directory, name + ".service"), Path.Combine(directory, name + ".timer") })
            {
                if (!File.Exists(path)) continue;
                string content;
                try
                {
                    content = File.ReadAllText(path);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new ReplyAdminException(ErrorIds.ScheduleRemoveFailed, ReplyAdminErrorKind.ReadError, $"The unit '{path}' cannot be read: {e.Message}", path,
                        "Run as root for /etc/systemd/system.", e);
                }
                // Only a unit Register-ReplyProcessingSchedule wrote: a mistyped -Name must not take another program's unit.
                if (!IsReplyAdminUnit(content))
                    throw new ReplyAdminException(ErrorIds.ScheduleNotReplyAdmin, ReplyAdminErrorKind.InvalidArgument,
                        $"The unit '{path}' was not written by Register-ReplyProcessingSchedule; nothing was removed.", path,
                        "Check -Name: it is the name given to Register-ReplyProcessingSchedule (default ReplyAdmin).");
                units.Add(new ScheduleFile { Path = path, Content = content });
            }
            if (units.Count == 0)
                throw new ReplyAdminException(ErrorIds.ScheduleNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"There is no schedule '{name}' in {directory} (no {name}.timer or {name}.service).", name,
                    "Get-ReplyProcessingSchedule lists the schedules; give the -OutputPath too if the units were written there.");
            return units.ToArray();
        }

        /// <summary>The names of the schedules Register-ReplyProcessingSchedule wrote into <paramref name="directory"/>; none where it cannot be read.</summary>
        public static IReadOnlyList<string> ScheduleNames(string directory)
        {
            try
            {
                if (!Directory.Exists(directory)) return new string[0];
                return Directory.GetFiles(directory, "*.timer").Concat(Directory.GetFiles(directory, "*.service"))
                    .Where(path => IsReplyAdminUnit(File.ReadAllText(path)))
                    .Select(path => Path.GetFileNameWithoutExtension(path)).Distinct(StringComparer.Ordinal).OrderBy(name => name, StringComparer.OrdinalIgnoreCase).ToList();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return new string[0];
            }
        }

        /// <summary>
        /// A schedule in <paramref name="directory"/> as its unit files say: what each run starts (command, program,
        /// configuration), how often, and the EnvironmentFile. <see cref="ProcessingSchedule.Enabled"/> is not read here.
        /// </summary>
        /// <exception cref="ReplyAdminException">As <see cref="FindUnits"/>.</exception>
        public static ProcessingSchedule Read(string name, string directory)
        {
            var units = FindUnits(name, directory);
            var service = units.FirstOrDefault(u => u.Path.EndsWith(".service", StringComparison.Ordinal));
            var timer = units.FirstOrDefault(u => u.Path.EndsWith(".timer", StringComparison.Ordinal));
            var schedule = new ProcessingSchedule { Name = name, Platform = SchedulePlatform.Systemd, Files = units, Watch = timer == null, Applied = true };
            var execStart = Setting(service, "ExecStart");
            if (execStart != null)
            {
                schedule.CommandLine = execStart;
                schedule.Command = ScheduleBuilder.SystemdSplit(execStart);
                var at = Array.IndexOf(schedule.Command, "-ConfigPath");
                if (at >= 0 && at + 1 < schedule.Command.Length) schedule.ConfigPath = schedule.Command[at + 1];
                var program = ScheduledProgram.FromCommand(schedule.Command);
                if (program != null)
                {
                    schedule.RunWith = program.Runner;
                    schedule.ScriptPath = program.Path;
                }
                // A resident process waits at most -WatchIntervalSeconds between two runs; a timer starts one every OnUnitActiveSec.
                var wait = Array.IndexOf(schedule.Command, "-WatchIntervalSeconds");
                if (schedule.Watch && wait >= 0 && wait + 1 < schedule.Command.Length && long.TryParse(schedule.Command[wait + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                    schedule.Interval = TimeSpan.FromSeconds(seconds);
            }
            if (ScheduleBuilder.ParseSystemdTimeSpan(Setting(timer, "OnUnitActiveSec")) is TimeSpan every)
                schedule.Interval = every;
            var environmentFile = Setting(service, "EnvironmentFile");
            if (environmentFile != null)
                schedule.EnvironmentFile = environmentFile.TrimStart('-').Replace("%%", "%");
            return schedule;
        }

        // The value of the first "Key=" line of a unit, or null.
        private static string Setting(ScheduleFile unit, string key) =>
            unit?.Content.Split('\n').Select(line => line.TrimEnd('\r')).FirstOrDefault(line => line.StartsWith(key + "=", StringComparison.Ordinal))?.Substring(key.Length + 1);

        /// <summary>Whether systemd has the unit enabled (<c>systemctl [--user] is-enabled</c> succeeds).</summary>
        public static bool IsEnabled(string unit, bool userUnits)
        {
            try
            {
                return RunSystemctl(SystemctlArguments(userUnits, new[] { "is-enabled", "--quiet", unit })).ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return false;
            }
        }

        private static bool IsReplyAdminUnit(string content) => ("\n" + content).Contains("\n" + ScheduleBuilder.UnitDescription);

        /// <summary>
        /// Runs <c>systemctl [--user] disable --now</c> for the units: the timer starts no more runs, and a run or a resident
        /// process in progress gets SIGTERM, on which it ends at its next step and gives its lease back.
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleDisableFailed</c>: systemctl failed.</exception>
        public static void Disable(IEnumerable<string> units, bool userUnits) =>
            Systemctl(userUnits, new[] { "disable", "--now" }.Concat(units), ErrorIds.ScheduleDisableFailed,
                "Run the command yourself to see the cause; the unit files are still in place.");

        /// <summary>Deletes the unit files, then runs <c>systemctl [--user] daemon-reload</c> when <paramref name="reload"/>.</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduleRemoveFailed</c>; <c>ScheduleDisableFailed</c>: the reload failed.</exception>
        public static void DeleteUnits(IEnumerable<ScheduleFile> units, bool userUnits, bool reload)
        {
            foreach (var unit in units)
            {
                try
                {
                    File.Delete(unit.Path);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new ReplyAdminException(ErrorIds.ScheduleRemoveFailed, ReplyAdminErrorKind.WriteError, $"The unit '{unit.Path}' cannot be deleted: {e.Message}", unit.Path,
                        "Run as root for /etc/systemd/system.", e);
                }
            }
            if (reload)
                Systemctl(userUnits, new[] { "daemon-reload" }, ErrorIds.ScheduleDisableFailed, "Run 'systemctl daemon-reload' yourself; the unit files are gone.");
        }

        private static void Systemctl(bool userUnits, IEnumerable<string> arguments, string errorId, string advice)
        {
            var line = SystemctlArguments(userUnits, arguments);
            try
            {
                var (exitCode, error) = RunSystemctl(line);
                if (exitCode != 0)
                    throw new ReplyAdminException(errorId, ReplyAdminErrorKind.NotSpecified,
                        $"'systemctl {line}' failed with exit code {exitCode}: {error}", "systemctl " + line, advice);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new ReplyAdminException(errorId, ReplyAdminErrorKind.ResourceUnavailable,
                    $"systemctl cannot be started: {e.Message}", "systemctl " + line, advice, e);
            }
        }

        private static string SystemctlArguments(bool userUnits, IEnumerable<string> arguments) =>
            string.Join(" ", (userUnits ? new[] { "--user" } : new string[0]).Concat(arguments));

        // Runs systemctl with the argument line and returns its exit code and standard error. Win32Exception: it cannot be started.
        private static (int ExitCode, string Error) RunSystemctl(string arguments)
        {
            var start = new ProcessStartInfo("systemctl", arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            using (var process = Process.Start(start))
            {
                var errorTask = process.StandardError.ReadToEndAsync();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                return (process.ExitCode, errorTask.GetAwaiter().GetResult().Trim());
            }
        }
    }
}
