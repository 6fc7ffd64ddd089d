using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading.Tasks;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Handles the replies waiting at the source: stores, forwards, filters or rejects each one as its list's setting says.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "ReplyProcessing", SupportsShouldProcess = true, DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ProcessingResult), ParameterSetName = new[] { ConfiguredSet, PathSet })]
    [OutputType(typeof(ProcessingSummary))]
    public sealed class InvokeReplyProcessingCommand : ReplyAdminCmdlet
    {
        private const string ConfiguredSet = "Configured";
        private const string PathSet = "Path";
        private readonly List<string> _files = new List<string>();
        private string _configPath;
        private string _journalDirectory;

        /// <summary>Message files to handle instead of the configured source; wildcards allowed.</summary>
        [Parameter(ParameterSetName = PathSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath")]
        [SupportsWildcards]
        public string[] Path { get; set; }

        /// <summary>Handle at most this many messages (oldest first).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxMessages { get; set; }

        /// <summary>Permanent failures after which a message is set aside in the DeadLetter folder (0: never).</summary>
        [Parameter]
        [ValidateRange(0, 1000)]
        public int MaxAttempts { get; set; } = 5;

        /// <summary>How many batches of messages are handled at once, each on connections of its own.</summary>
        [Parameter]
        [ValidateRange(1, ProcessingOptions.MaxThrottleLimit)]
        public int ThrottleLimit { get; set; } = ProcessingOptions.DefaultThrottleLimit;

        /// <summary>Login of the reply mailbox, overriding the configured credential reference.</summary>
        [Parameter]
        [Credential]
        public PSCredential Credential { get; set; }

        /// <summary>Login of the IMAP source, overriding the configured credential reference.</summary>
        [Parameter(ParameterSetName = ConfiguredSet)]
        [Credential]
        public PSCredential SourceCredential { get; set; }

        /// <summary>Directory of the journal; default: 'journal' beside the configuration file.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; }

        /// <summary>Time limit of each network operation, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSeconds { get; set; } = 60;

        /// <summary>Output only the run's summary instead of one result per message.</summary>
        [Parameter]
        public SwitchParameter Summary { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (Path == null) return;
            foreach (var path in Path)
            {
                try
                {
                    _files.AddRange(SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _));
                }
                catch (ItemNotFoundException)
                {
                    WriteError(Error(ErrorIds.MessageFileNotFound, ReplyAdminErrorKind.ObjectNotFound, $"No message file matches '{path}'.", path,
                        "Check the path; the other files are processed."));
                }
            }
        }

        /// <summary>Keep running: process, then wait for new replies (IMAP IDLE) and process again, until Ctrl+C.</summary>
        [Parameter(ParameterSetName = ConfiguredSet)]
        public SwitchParameter Watch { get; set; }

        /// <summary>With -Watch: the longest wait between two runs (also the polling interval of file sources).</summary>
        [Parameter(ParameterSetName = ConfiguredSet)]
        public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMinutes(5);

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (ParameterSetName == PathSet && _files.Count == 0)
                return;
            // Paths are resolved here, on the pipeline thread: a watch builds its requests on a worker thread.
            _configPath = ResolvedConfigPath;
            _journalDirectory = JournalPath == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath);
            var configuration = LoadConfiguration();
            var source = ParameterSetName == PathSet ? $"{_files.Count} file(s)" : ReplyProcessing.DescribeSource(configuration);
            // -WhatIf answers false with reason WhatIf: the run then decides and reports, and changes nothing.
            var target = $"replies from {source} into the reply folder {configuration.ReplyMailbox?.Folder} on {configuration.ReplyMailbox?.Host}";
            var proceed = ShouldProcess($"Performing the operation \"Process replies\" on target \"{target}\".", $"Process {target}?", "Process replies", out var reason);
            var whatIf = !proceed && reason == ShouldProcessReason.WhatIf;
            if (!proceed && !whatIf)
                return; // declined at -Confirm

            if (!Watch || whatIf)
            {
                Report(Invoke(() => Run((observer, credentials) => ReplyProcessing.RunAsync(CreateRequest(configuration, whatIf, credentials), observer, StopToken))));
                return;
            }
            // Runs until Ctrl+C; the configuration is read again before each run, so changes made while watching take effect.
            var store = Store;
            Run<object>(async (observer, credentials) =>
            {
                await ReplyProcessing.WatchAsync(() => CreateRequest(store.Load(), false, credentials), observer, summary => observer.Enqueue(() => Report(summary)),
                    WatchInterval, StopToken).ConfigureAwait(false);
                return null;
            });
        }

        private ProcessingRequest CreateRequest(ReplyAdminConfiguration configuration, bool whatIf, CredentialResolver credentials) => new ProcessingRequest
        {
            Configuration = configuration,
            Credentials = credentials,
            ConfigPath = _configPath,
            ReplyMailboxCredential = Credential?.GetNetworkCredential(),
            SourceCredential = SourceCredential?.GetNetworkCredential(),
            Files = ParameterSetName == PathSet ? _files : null,
            JournalDirectory = _journalDirectory,
            Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
            Options = new ProcessingOptions { WhatIf = whatIf, MaxMessages = MaxMessages > 0 ? MaxMessages : (int?)null, MaxAttempts = MaxAttempts, ThrottleLimit = ThrottleLimit },
        };

        // The engine runs on a worker thread; PowerShell's Write* methods may only be called from this one,
        // so the engine's reports come back through a queue. Throws the engine's exception when the run fails.
        private T Run<T>(Func<QueueObserver, CredentialResolver, Task<T>> engineCall)
        {
            using var termination = TerminationSignals.StopOn(StopProcessing, () => StopToken.IsCancellationRequested);
            var events = new BlockingCollection<Action>();
            var observer = new QueueObserver(events, this);
            var credentials = new CredentialResolver(SecretManagementAvailable ? name => OnPipelineThread(events, () => LookupSecret(name)) : (Func<string, string>)null);
            var run = Task.Run(async () =>
            {
                try { return await engineCall(observer, credentials).ConfigureAwait(false); }
                finally { events.CompleteAdding(); }
            });
            foreach (var write in events.GetConsumingEnumerable())
                write();
            WriteProgress(new ProgressRecord(1, "Processing replies", "Done") { RecordType = ProgressRecordType.Completed });
            try
            {
                return run.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        private void Report(ProcessingSummary summary)
        {
            var line = summary.ToString();
            WriteVerbose(line);
            if (Summary)
                WriteObject(summary);
            else
                WriteHostInformation(line);
        }

        // Runs a PowerShell call (Get-Secret) for the engine's worker thread on the pipeline thread, and waits for it.
        private static string OnPipelineThread(BlockingCollection<Action> events, Func<string> call)
        {
            var done = new TaskCompletionSource<string>();
            events.Add(() =>
            {
                try { done.SetResult(call()); }
                catch (Exception e) { done.SetException(e); }
            });
            return done.Task.GetAwaiter().GetResult();
        }

        private sealed class QueueObserver : IProcessingObserver
        {
            private readonly BlockingCollection<Action> _events;
            private readonly InvokeReplyProcessingCommand _cmdlet;

            public QueueObserver(BlockingCollection<Action> events, InvokeReplyProcessingCommand cmdlet)
            {
                _events = events;
                _cmdlet = cmdlet;
                VerboseEnabled = cmdlet.VerboseWanted;
            }

            public bool VerboseEnabled { get; }

            /// <summary>Runs an action on the pipeline thread, in order with the engine's reports.</summary>
            public void Enqueue(Action action) => _events.Add(action);

            public void Verbose(string message) => _events.Add(() => _cmdlet.WriteVerbose(message));

            public void Warning(string message) => _events.Add(() => _cmdlet.WriteWarning(message));

            public void Progress(int done, int total, string current) => _events.Add(() => _cmdlet.WriteProgress(
                new ProgressRecord(1, "Processing replies", $"{done + 1} of {total}: {current}")
                {
                    PercentComplete = total == 0 ? 100 : Math.Min(100, done * 100 / total),
                }));

            public void Result(ProcessingResult result)
            {
                if (_cmdlet.Summary && result.Error == null) return; // nothing to write for it
                _events.Add(() =>
                {
                    if (!_cmdlet.Summary) _cmdlet.WriteObject(result);
                    if (result.Error != null) _cmdlet.WriteEngineError(result.Error);
                });
            }
        }
    }
}
