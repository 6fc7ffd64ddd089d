using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Scheduling
{
    /// <summary>The exit codes of a scheduled run, the same for Start-ReplyProcessing.ps1 and the ReplyAdmin.Runner program.</summary>
    public enum ScheduledRunExit
    {
        /// <summary>Every waiting message was handled (or a watch was stopped).</summary>
        Handled = 0,
        /// <summary>The run finished, but some messages failed; they stay at the source and the next run retries them.</summary>
        SomeFailed = 1,
        /// <summary>The run failed (configuration, credentials, a server that cannot be reached); nothing was lost.</summary>
        Failed = 2,
        /// <summary>Another run is processing the same source; this run did nothing.</summary>
        Busy = 3,
    }

    /// <summary>The arguments of one scheduled run, named as Start-ReplyProcessing.ps1 names them.</summary>
    public sealed class ScheduledRunOptions
    {
        /// <summary>The configuration file; null for the default (<see cref="ConfigurationStore.DefaultPath"/>).</summary>
        public string ConfigPath { get; set; }
        /// <summary>Handle at most this many messages; 0 for all.</summary>
        public int MaxMessages { get; set; }
        /// <summary>Time limit of each network operation.</summary>
        public int TimeoutSeconds { get; set; } = 60;
        /// <summary>Batches handled at once; 0 for the default.</summary>
        public int ThrottleLimit { get; set; }
        /// <summary>Permanent failures after which a message is set aside; -1 for the default.</summary>
        public int MaxAttempts { get; set; } = -1;
        /// <summary>Keep running and handle replies as they arrive.</summary>
        public bool Watch { get; set; }
        /// <summary>With <see cref="Watch"/>: the longest wait between two runs.</summary>
        public int WatchIntervalSeconds { get; set; } = 300;
        /// <summary>Print the usage and do nothing else.</summary>
        public bool Help { get; set; }

        /// <summary>The usage text of the runner.</summary>
        public const string Usage =
            "Usage: dotnet ReplyAdmin.Runner.dll [-ConfigPath <file>] [-MaxMessages <n>] [-TimeoutSeconds <s>] [-ThrottleLimit <n>]\n" +
            "                                    [-MaxAttempts <n>] [-Watch [-WatchIntervalSeconds <s>]]\n" +
            "Runs the reply processing once (or resident with -Watch), as Start-ReplyProcessing.ps1 does, without PowerShell.\n" +
            "Exit codes: 0 all handled, 1 some messages failed (retried next run), 2 the run failed, 3 another run was busy.";

        /// <summary>Reads <c>-Name value</c> pairs and the <c>-Watch</c> switch (names case-insensitive, as PowerShell takes them).</summary>
        /// <exception cref="ReplyAdminException"><c>ScheduledRunArgumentInvalid</c>: an unknown name, a missing or invalid value.</exception>
        public static ScheduledRunOptions Parse(IReadOnlyList<string> arguments)
        {
            var options = new ScheduledRunOptions();
            for (var i = 0; i < arguments.Count; i++)
            {
                var name = arguments[i].TrimStart('-', '/').ToLowerInvariant();
                switch (name)
                {
                    case "?": case "h": case "help": options.Help = true; continue;
                    case "watch": options.Watch = true; continue;
                }
                if (!arguments[i].StartsWith("-", StringComparison.Ordinal) || i + 1 >= arguments.Count)
                    throw Invalid(arguments[i], i + 1 >= arguments.Count ? "has no value" : "is not a parameter");
                var value = arguments[++i];
                switch (name)
                {
                    case "configpath": options.ConfigPath = value; break;
                    case "maxmessages": options.MaxMessages = Number(name, value, 1, int.MaxValue); break;
                    case "timeoutseconds": options.TimeoutSeconds = Number(name, value, 1, 3600); break;
                    case "throttlelimit": options.ThrottleLimit = Number(name, value, 1, ProcessingOptions.MaxThrottleLimit); break;
                    case "maxattempts": options.MaxAttempts = Number(name, value, 0, 1000); break;
                    case "watchintervalseconds": options.WatchIntervalSeconds = Number(name, value, 1, 86400); break;
                    default: throw Invalid(arguments[i - 1], "is not a parameter");
                }
            }
            return options;
        }

        private static int Number(string name, string value, int minimum, int maximum)
        {
            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= minimum && number <= maximum)
                return number;
            throw Invalid("-" + name + " " + value, $"needs a whole number from {minimum} to {maximum}");
        }

        private static ReplyAdminException Invalid(string argument, string problem) =>
            new ReplyAdminException(ErrorIds.ScheduledRunArgumentInvalid, ReplyAdminErrorKind.InvalidArgument,
                $"'{ConfigurationValidator.Printable(argument)}' {problem}.", argument, Usage);
    }

    /// <summary>
    /// One scheduled run (or resident watch) without PowerShell: what ReplyAdmin.Runner does for a systemd timer, cron or
    /// a Windows task. Its output and exit codes are those of Start-ReplyProcessing.ps1: one summary line per run on
    /// <c>output</c>, each per-message error as <c>ErrorId: message</c> on <c>errors</c>, warnings as <c>WARNING: </c>
    /// lines on <c>output</c>, and a <see cref="ScheduledRunExit"/> code.
    /// </summary>
    public static class ScheduledRun
    {
        /// <summary>The exit code of a run that finished.</summary>
        public static ScheduledRunExit ExitOf(ProcessingSummary summary) => summary.Failed > 0 ? ScheduledRunExit.SomeFailed : ScheduledRunExit.Handled;

        /// <summary>The exit code of a run that ended with the error <paramref name="errorId"/>.</summary>
        public static ScheduledRunExit ExitOf(string errorId) => errorId == ErrorIds.ProcessingAlreadyRunning ? ScheduledRunExit.Busy : ScheduledRunExit.Failed;

        /// <summary>
        /// Runs once (or watches) as <paramref name="options"/> say and returns the exit code. Cancelling
        /// <paramref name="cancellationToken"/> (SIGTERM, Ctrl+C) ends the run at its next step with the lease given back: exit 0.
        /// </summary>
        /// <param name="options">The run's arguments.</param>
        /// <param name="credentials">Resolves the configuration's credential references.</param>
        /// <param name="output">Summary lines and warnings.</param>
        /// <param name="errors">Per-message errors.</param>
        /// <param name="cancellationToken">Stops the run or the watch.</param>
        public static async Task<ScheduledRunExit> RunAsync(ScheduledRunOptions options, CredentialResolver credentials, TextWriter output, TextWriter errors,
            CancellationToken cancellationToken)
        {
            // Results and warnings come from the run's worker threads.
            output = TextWriter.Synchronized(output);
            errors = TextWriter.Synchronized(errors);
            var observer = new LineObserver(output, errors);
            var store = new ConfigurationStore(string.IsNullOrEmpty(options.ConfigPath) ? ConfigurationStore.DefaultPath : options.ConfigPath);
            try
            {
                foreach (var warning in store.PermissionWarnings()) observer.Warning(warning);
                if (options.Watch)
                {
                    await ReplyProcessing.WatchAsync(() => Request(options, store, credentials), observer, summary => output.WriteLine(summary.ToString()),
                        TimeSpan.FromSeconds(options.WatchIntervalSeconds), cancellationToken).ConfigureAwait(false);
                    return ScheduledRunExit.Handled;
                }
                var result = await ReplyProcessing.RunAsync(Request(options, store, credentials), observer, cancellationToken).ConfigureAwait(false);
                output.WriteLine(result.ToString());
                return ExitOf(result);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ScheduledRunExit.Handled;
            }
            catch (Exception e)
            {
                var id = e is ReplyAdminException known ? known.ErrorId : e.GetType().FullName;
                output.WriteLine($"ReplyAdmin {(options.Watch ? "watch stopped" : "run did not complete")}: {id}: {e.Message}");
                return options.Watch ? ScheduledRunExit.Failed : ExitOf(id);
            }
        }

        private static ProcessingRequest Request(ScheduledRunOptions options, ConfigurationStore store, CredentialResolver credentials)
        {
            var processing = new ProcessingOptions { MaxMessages = options.MaxMessages > 0 ? options.MaxMessages : (int?)null };
            if (options.MaxAttempts >= 0) processing.MaxAttempts = options.MaxAttempts;
            if (options.ThrottleLimit > 0) processing.ThrottleLimit = options.ThrottleLimit;
            return new ProcessingRequest
            {
                Configuration = store.Load(),
                Credentials = credentials,
                ConfigPath = store.Path,
                Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
                Options = processing,
            };
        }

        private sealed class LineObserver : IProcessingObserver
        {
            private readonly TextWriter _output;
            private readonly TextWriter _errors;

            public LineObserver(TextWriter output, TextWriter errors)
            {
                _output = output;
                _errors = errors;
            }

            public bool VerboseEnabled => false;

            public void Verbose(string message) { }

            public void Warning(string message) => _output.WriteLine("WARNING: " + message);

            public void Progress(int done, int total, string current) { }

            public void Result(ProcessingResult result)
            {
                if (result.Error != null) _errors.WriteLine($"{result.Error.ErrorId}: {result.Error.Message}");
            }
        }
    }
}
