using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading.Tasks;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// <para type="synopsis">Handles the replies waiting at the source: stores, forwards, filters or rejects each one as its list's setting says.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "ReplyProcessing", SupportsShouldProcess = true, DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ProcessingResult), ParameterSetName = new[] { ConfiguredSet, PathSet })]
    [OutputType(typeof(ProcessingSummary))]
    public sealed class InvokeReplyProcessingCommand : ReplyAdminCmdlet
    {
        private const string ConfiguredSet = "Configured";
        private const string PathSet = "Path";
        private readonly List<string> _files = new List<string>();

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
                    WriteError(Error("MessageFileNotFound", ReplyAdminErrorKind.ObjectNotFound, $"No message file matches '{path}'.", path,
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
            var configuration = LoadConfiguration();
            var source = ParameterSetName == PathSet ? $"{_files.Count} file(s)" : configuration.Source?.Kind == SourceKind.Imap
                ? ImapEndpoint.From(configuration.Source).ToString() : configuration.Source?.Path ?? "(no source configured)";
            var whatIf = !ShouldProcess($"replies from {source} into the reply folder {configuration.ReplyMailbox?.Folder} on {configuration.ReplyMailbox?.Host}", "Process replies");
            if (whatIf && !IsWhatIf())
                return; // declined at -Confirm

            if (!Watch || whatIf)
            {
                Report(Invoke(() => Run(CreateRequest(configuration, whatIf))));
                return;
            }
            WatchLoop();
        }

        // Runs until Ctrl+C: a failed run (server down, ...) is reported as a warning and retried with growing pauses.
        private void WatchLoop()
        {
            var pause = TimeSpan.FromSeconds(5);
            WriteVerbose($"Watching for replies; runs at least every {WatchInterval}. Press Ctrl+C to stop.");
            while (!StopToken.IsCancellationRequested)
            {
                try
                {
                    var configuration = LoadConfiguration(); // picks up changes made while watching
                    Report(Run(CreateRequest(configuration, false)));
                    pause = TimeSpan.FromSeconds(5);
                    WaitForArrival(configuration);
                }
                catch (ReplyAdminException e)
                {
                    WriteWarning($"{e.ErrorId}: {e.Message} Next attempt in {pause.TotalSeconds:0} s.");
                    if (!Sleep(pause)) break;
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMinutes(5).Ticks));
                }
                catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
                {
                    break;
                }
            }
            WriteVerbose("Stopped watching.");
        }

        private void WaitForArrival(ReplyAdminConfiguration configuration)
        {
            var settings = configuration.Source;
            if (settings?.Kind != SourceKind.Imap)
            {
                Sleep(WatchInterval);
                return;
            }
            var credential = SourceCredential?.GetNetworkCredential()
                ?? CredentialResolver.Resolve(settings.UserName, settings.CredentialReference, "source.credentialReference", settings.Authentication);
            WriteVerbose($"Waiting for new replies in {settings.Folder} (IMAP IDLE, at most {WatchInterval}).");
            ImapArrivalWatcher.WaitForArrivalAsync(settings, credential, WatchInterval, TimeSpan.FromSeconds(TimeoutSeconds), StopToken).GetAwaiter().GetResult();
        }

        private bool Sleep(TimeSpan time) => !StopToken.WaitHandle.WaitOne(time);

        private ProcessingRequest CreateRequest(ReplyAdminConfiguration configuration, bool whatIf) => new ProcessingRequest
        {
            Configuration = configuration,
            ConfigPath = ResolvedConfigPath,
            ReplyMailboxCredential = Credential?.GetNetworkCredential(),
            SourceCredential = SourceCredential?.GetNetworkCredential(),
            Files = ParameterSetName == PathSet ? _files : null,
            JournalDirectory = JournalPath == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath),
            Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
            Options = new ProcessingOptions { WhatIf = whatIf, MaxMessages = MaxMessages > 0 ? MaxMessages : (int?)null, MaxAttempts = MaxAttempts, ThrottleLimit = ThrottleLimit },
        };

        // The engine runs on a worker thread; PowerShell's Write* methods may only be called from this one,
        // so the engine's reports come back through a queue. Throws the engine's exception when the run fails.
        private ProcessingSummary Run(ProcessingRequest request)
        {
            var events = new BlockingCollection<Action>();
            var observer = new QueueObserver(events, this);
            request.Credentials = new CredentialResolver(SecretManagementAvailable ? name => OnPipelineThread(events, () => LookupSecret(name)) : (Func<string, string>)null);
            var run = Task.Run(async () =>
            {
                try { return await ReplyProcessing.RunAsync(request, observer, StopToken).ConfigureAwait(false); }
                finally { events.CompleteAdding(); }
            });
            foreach (var write in events.GetConsumingEnumerable())
                write();
            WriteProgress(new ProgressRecord(1, "Processing replies", "Done") { RecordType = ProgressRecordType.Completed });
            try
            {
                return run.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested && !Watch)
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
                Host.UI.WriteLine(line);
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

        private bool IsWhatIf() =>
            MyInvocation.BoundParameters.TryGetValue("WhatIf", out var value) ? ((SwitchParameter)value).IsPresent
                : SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter preference ? preference.IsPresent
                : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

        private sealed class QueueObserver : IProcessingObserver
        {
            private readonly BlockingCollection<Action> _events;
            private readonly InvokeReplyProcessingCommand _cmdlet;

            public QueueObserver(BlockingCollection<Action> events, InvokeReplyProcessingCommand cmdlet)
            {
                _events = events;
                _cmdlet = cmdlet;
                VerboseEnabled = cmdlet.MyInvocation.BoundParameters.TryGetValue("Verbose", out var verbose)
                    ? ((SwitchParameter)verbose).IsPresent
                    : !(cmdlet.GetVariableValue("VerbosePreference") is ActionPreference preference) || preference != ActionPreference.SilentlyContinue;
            }

            public bool VerboseEnabled { get; }

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
