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
    /// <summary>Writes systemd units and activates them with systemctl.</summary>
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
            var prefix = userUnits ? new[] { "--user" } : new string[0];
            Systemctl(prefix.Concat(new[] { "daemon-reload" }));
            Systemctl(prefix.Concat(new[] { "enable", "--now", unit }));
        }

        private static void Systemctl(IEnumerable<string> arguments)
        {
            var line = string.Join(" ", arguments);
            var start = new ProcessStartInfo("systemctl", line)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            try
            {
                using (var process = Process.Start(start))
                {
                    var errorTask = process.StandardError.ReadToEndAsync();
                    process.StandardOutput.ReadToEnd();
                    process.WaitForExit();
                    var error = errorTask.GetAwaiter().GetResult().Trim();
                    if (process.ExitCode != 0)
                        throw new ReplyAdminException(ErrorIds.ScheduleEnableFailed, ReplyAdminErrorKind.NotSpecified,
                            $"'systemctl {line}' failed with exit code {process.ExitCode}: {error}", "systemctl " + line,
                            "Run the command yourself to see the cause; the unit files are in place.");
                }
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new ReplyAdminException(ErrorIds.ScheduleEnableFailed, ReplyAdminErrorKind.ResourceUnavailable,
                    $"systemctl cannot be started: {e.Message}", "systemctl " + line, "Enable the timer by hand once systemd is available.", e);
            }
        }
    }
}
