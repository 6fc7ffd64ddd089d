using System;

namespace ReplyAdmin.Engine.Scheduling
{
    /// <summary>Which scheduler runs the processing.</summary>
    public enum SchedulePlatform
    {
        /// <summary>A Windows scheduled task on Windows, a systemd timer on Linux, a cron line elsewhere.</summary>
        Auto,
        /// <summary>A Windows scheduled task (needs the ScheduledTasks module).</summary>
        Windows,
        /// <summary>A systemd service and timer.</summary>
        Systemd,
        /// <summary>A crontab line (printed, not installed).</summary>
        Cron,
    }

    /// <summary>A file the schedule consists of, with its full content (it never holds a password).</summary>
    public sealed class ScheduleFile
    {
        /// <summary>Where the file is (or would be) written.</summary>
        public string Path { get; set; }
        /// <summary>The file's content.</summary>
        public string Content { get; set; }
        /// <inheritdoc />
        public override string ToString() => Path;
    }

    /// <summary>What Register-ReplyProcessingSchedule created (or would create), or what Unregister-ReplyProcessingSchedule removed (or would remove).</summary>
    public sealed class ProcessingSchedule
    {
        /// <summary>Task or unit name.</summary>
        public string Name { get; set; }
        /// <summary>The scheduler used.</summary>
        public SchedulePlatform Platform { get; set; }
        /// <summary>Time between runs; with <see cref="Watch"/>, the longest wait between two runs of the resident process.</summary>
        public TimeSpan Interval { get; set; }
        /// <summary>True for one resident process that handles replies as they arrive (Start-ReplyProcessing.ps1 or the runner with -Watch), false for a run every interval.</summary>
        public bool Watch { get; set; }
        /// <summary>The configuration file each run uses (absolute).</summary>
        public string ConfigPath { get; set; }
        /// <summary>What each run starts: the runner (<c>dotnet ReplyAdmin.Runner.dll</c>) or PowerShell (Start-ReplyProcessing.ps1).</summary>
        public ScheduleRunner RunWith { get; set; }
        /// <summary>The script (Start-ReplyProcessing.ps1) or the runner (ReplyAdmin.Runner.dll) each run starts.</summary>
        public string ScriptPath { get; set; }
        /// <summary>The program and its arguments that each run executes.</summary>
        public string[] Command { get; set; } = new string[0];
        /// <summary><see cref="Command"/> as one line, quoted for the scheduler it is meant for.</summary>
        public string CommandLine { get; set; }
        /// <summary>The files written (systemd unit files).</summary>
        public ScheduleFile[] Files { get; set; } = new ScheduleFile[0];
        /// <summary>The crontab line (cron only).</summary>
        public string CronLine { get; set; }
        /// <summary>Where a cron run's output goes (cron only).</summary>
        public string LogPath { get; set; }
        /// <summary>The file for the <c>env:</c> credential variables of a systemd service, or null when none are needed.</summary>
        public string EnvironmentFile { get; set; }
        /// <summary>Names (never values) of the environment variables the configuration's <c>env:</c> references need.</summary>
        public string[] EnvironmentVariables { get; set; } = new string[0];
        /// <summary>The command that activates the schedule, when it still has to be run by hand.</summary>
        public string EnableCommand { get; set; }
        /// <summary>True when the files were written or the task was registered (by Unregister: removed); false under -WhatIf, or for cron.</summary>
        public bool Applied { get; set; }
        /// <summary>True when the timer or task was also activated (systemctl enable --now, or a registered task).</summary>
        public bool Enabled { get; set; }
        /// <summary>What the administrator should know or still do.</summary>
        public string[] Notes { get; set; } = new string[0];
    }
}
