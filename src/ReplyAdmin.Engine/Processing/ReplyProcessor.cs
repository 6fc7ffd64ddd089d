using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Utils;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Imap;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>Options of one processing run.</summary>
    public sealed class ProcessingOptions
    {
        /// <summary>Decide and report only; change nothing on any server or file.</summary>
        public bool WhatIf { get; set; }

        /// <summary>Handle at most this many messages (oldest first); null for all.</summary>
        public int? MaxMessages { get; set; }

        /// <summary>The configured maximum message size; the server's APPENDLIMIT wins where smaller.</summary>
        public long MaxMessageSize { get; set; } = ReplyMailboxSettings.DefaultMaxMessageSize;

        /// <summary>
        /// After this many runs failed on a message permanently (relay 5xx, server refused the message, unexpected
        /// error), it is moved to the dead-letter place with the reason instead of being retried forever; 0 never.
        /// Transient failures (connections, 4xx, quota, timeouts) are not counted.
        /// </summary>
        public int MaxAttempts { get; set; } = 5;

        /// <summary>
        /// Messages handled together: headers fetched in one round trip, claimed, stored (one MULTIAPPEND), marked
        /// and acknowledged with one command each. A batch also ends at 8 MB. Results are reported and journaled per batch.
        /// </summary>
        public const int BatchSize = 50;

        /// <summary>
        /// How many batches are handled at once, each on IMAP connections of its own (so at most this many connections
        /// to each server). While one batch's messages are read and classified, others are on the wire, so the client
        /// and the server both stay busy (on two cores 3 was faster than 2). 1 handles the messages strictly in order.
        /// </summary>
        public int ThrottleLimit
        {
            get => _throttleLimit;
            set => _throttleLimit = value >= 1 && value <= MaxThrottleLimit ? value
                : throw new ArgumentOutOfRangeException(nameof(value), value, $"ThrottleLimit is 1 to {MaxThrottleLimit}.");
        }

        private int _throttleLimit = DefaultThrottleLimit;

        /// <summary>The default of <see cref="ThrottleLimit"/>.</summary>
        public const int DefaultThrottleLimit = 3;

        /// <summary>The largest <see cref="ThrottleLimit"/>: recovery after a crash looks among the copies that many batches can hold.</summary>
        public const int MaxThrottleLimit = 8;

        /// <summary>Identifies the run in results and the journal.</summary>
        public string RunId { get; set; } = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'") + "-" + Guid.NewGuid().ToString("N").Substring(0, 6);
    }

    /// <summary>
    /// The processing loop: for each waiting reply, read headers and size, resolve lists, classify, decide, act
    /// (store, forward, reject, exclude) and acknowledge at the source only after every action succeeded.
    /// See docs/acknowledgement.md for the protocol that makes a re-run after a crash store no duplicate.
    /// </summary>
    public sealed class ReplyProcessor
    {
        private readonly ListResolver _resolver;
        private readonly IReplyClassifier _classifier;
        private readonly IReplySource _source;
        private readonly IReplyStore _store;
        private readonly IReplyForwarder _forwarder;
        private readonly IProcessingObserver _observer;
        private readonly ProcessingOptions _options;
        private readonly Journal _journal;

        /// <summary>Creates a processor for one run.</summary>
        /// <param name="lists">The configured lists.</param>
        /// <param name="classifier">Decides the class of each message.</param>
        /// <param name="source">Where replies wait.</param>
        /// <param name="store">The reply folder.</param>
        /// <param name="forwarder">The SMTP relay; null when no list forwards.</param>
        /// <param name="observer">Receives verbose output, progress and results.</param>
        /// <param name="options">Run options.</param>
        /// <param name="journal">Where results are recorded; null for none.</param>
        public ReplyProcessor(IReadOnlyList<ReplyList> lists, IReplyClassifier classifier, IReplySource source, IReplyStore store,
            IReplyForwarder forwarder, IProcessingObserver observer, ProcessingOptions options, Journal journal = null)
        {
            _resolver = new ListResolver(lists);
            _classifier = classifier;
            _source = source;
            _store = store;
            _forwarder = forwarder;
            _observer = observer;
            _options = options;
            _journal = journal;
        }

        /// <summary>Handles every waiting message (or <see cref="ProcessingOptions.MaxMessages"/>).</summary>
        /// <returns>The totals of the run.</returns>
        /// <exception cref="ReplyAdminException">The source or the reply folder cannot be reached; messages handled so far keep their results.</exception>
        public async Task<ProcessingSummary> RunAsync(CancellationToken cancellationToken)
        {
            var summary = new ProcessingSummary
            {
                RunId = _options.RunId,
                Source = _source.Description,
                ReplyFolder = _store.Description,
                Started = DateTimeOffset.UtcNow,
                WhatIf = _options.WhatIf,
                JournalPath = _journal?.Path,
            };
            _observer.Verbose($"Opening the source {_source.Description}.");
            await _source.OpenAsync(cancellationToken).ConfigureAwait(false);
            _observer.Verbose($"Opening the reply folder {_store.Description}.");
            await _store.OpenAsync(cancellationToken).ConfigureAwait(false);

            var maxSize = _store.ServerAppendLimit.HasValue ? Math.Min(_options.MaxMessageSize, _store.ServerAppendLimit.Value) : _options.MaxMessageSize;
            var waiting = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
            var messages = _options.MaxMessages.HasValue ? waiting.Take(_options.MaxMessages.Value).ToList() : waiting.ToList();
            _observer.Verbose($"{waiting.Count} messages wait at the source; handling {messages.Count}; largest accepted size {maxSize} bytes.");

            var run = new RunState(summary, messages.Count);
            // Messages an earlier run left half-done first, by one worker, before this run stores anything: a copy
            // without a Message-ID is found by its size among the newest messages of the reply folder, and this
            // run's own copies would push the interrupted run's further back.
            await RunBatchesAsync(messages.Where(m => m.State != SourceState.None).ToList(), 1, maxSize, run, cancellationToken).ConfigureAwait(false);
            await RunBatchesAsync(messages.Where(m => m.State == SourceState.None).ToList(), _options.ThrottleLimit, maxSize, run, cancellationToken).ConfigureAwait(false);
            summary.Duration = DateTimeOffset.UtcNow - summary.Started;
            return summary;
        }

        // Workers take the next batch in order until none is left or one of them met an error that ends the run;
        // the others finish the batch they are in, so every message they touched gets its result.
        private async Task RunBatchesAsync(List<SourceMessage> messages, int throttleLimit, long maxSize, RunState run, CancellationToken cancellationToken)
        {
            var batches = Batches(messages).ToList();
            var next = -1;
            async Task WorkerAsync()
            {
                await Task.Yield(); // off the caller's thread
                int index;
                while (!run.Ending && (index = Interlocked.Increment(ref next)) < batches.Count)
                {
                    try
                    {
                        await HandleBatchAsync(batches[index], maxSize, run, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        run.Ending = true;
                        throw;
                    }
                }
            }
            var workers = Enumerable.Range(0, Math.Min(Math.Max(1, throttleLimit), batches.Count)).Select(_ => WorkerAsync()).ToList();
            try
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch
            {
                // Task.WhenAll names the first worker's failure; a server error that ended the run says more than a cancellation.
                var errors = workers.Where(w => w.IsFaulted).Select(w => w.Exception.InnerException).ToList();
                var error = errors.FirstOrDefault(e => !(e is OperationCanceledException)) ?? errors.FirstOrDefault();
                if (error == null) throw;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
        }

        /// <summary>What the workers of one run share: the totals and the progress clock.</summary>
        private sealed class RunState
        {
            private readonly System.Diagnostics.Stopwatch _progress = System.Diagnostics.Stopwatch.StartNew();
            private int _handled;
            private bool _shown;
            private volatile bool _ending;

            public RunState(ProcessingSummary summary, int total)
            {
                Summary = summary;
                Total = total;
            }

            public ProcessingSummary Summary { get; }
            public int Total { get; }
            public bool Ending { get => _ending; set => _ending = value; }

            /// <summary>True when progress is due: the first message, then at most 4 updates a second.</summary>
            public bool ProgressDue(out int handled)
            {
                lock (_progress)
                {
                    handled = _handled;
                    if (_shown && _progress.ElapsedMilliseconds < 250) return false;
                    _shown = true;
                    _progress.Restart();
                    return true;
                }
            }

            public void Count(ProcessingResult result)
            {
                lock (_progress)
                {
                    _handled++;
                    ReplyProcessor.Count(Summary, result);
                }
            }
        }

        private async Task HandleBatchAsync(List<SourceMessage> batch, long maxSize, RunState run, CancellationToken cancellationToken)
        {
            await _source.LoadHeadersAsync(batch, cancellationToken).ConfigureAwait(false);
            var work = new List<Work>(batch.Count);
            try
            {
                foreach (var message in batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (run.ProgressDue(out var handled))
                        _observer.Progress(handled, run.Total, message.Headers?["Subject"] ?? message.Id);
                    work.Add(Decide(message, maxSize, cancellationToken));
                }
                if (!_options.WhatIf)
                    await ActAsync(work, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapConnectionException e)
            {
                // A server that cannot be reached ends the run; what was not done stays at the source.
                foreach (var item in work.Where(w => !w.Done && w.Result.Outcome != ReplyOutcome.Failed))
                    Fail(item.Result, e);
                throw;
            }
            finally
            {
                foreach (var item in work)
                {
                    item.Dispose();
                    item.Result.Time = DateTimeOffset.UtcNow;
                    run.Count(item.Result);
                    _journal?.Write(item.Result);
                    _observer.Result(item.Result);
                    item.Message.Headers = null; // a run over 100,000 messages keeps no headers it is done with
                }
            }
        }

        private static void Count(ProcessingSummary summary, ProcessingResult result)
        {
            summary.Total++;
            if (result.Outcome == ReplyOutcome.Failed) { summary.Failed++; return; }
            switch (result.Disposition)
            {
                case ReplyDisposition.Store: summary.Stored++; break;
                case ReplyDisposition.ForwardAndStore: summary.Stored++; summary.Forwarded++; break;
                case ReplyDisposition.StoreUnrouted: summary.Stored++; summary.Unrouted++; break;
                case ReplyDisposition.Exclude: summary.Excluded++; break;
                case ReplyDisposition.Reject: summary.Rejected++; break;
            }
        }

        /// <summary>One message of a batch: what was decided, what is done, and its body once loaded.</summary>
        private sealed class Work : IDisposable
        {
            public Work(SourceMessage message, ProcessingResult result, LoadedMessage loaded)
            {
                Message = message;
                Result = result;
                Loaded = loaded;
            }

            public SourceMessage Message { get; }
            public ProcessingResult Result { get; }
            public LoadedMessage Loaded { get; }
            public RoutingDecision Decision { get; set; }
            public bool Done { get; set; }
            public bool Live => !Done && Decision != null && Result.Outcome != ReplyOutcome.Failed;
            public void Dispose() => Loaded.Dispose();
        }

        private Work Decide(SourceMessage message, long maxSize, CancellationToken cancellationToken)
        {
            var result = new ProcessingResult
            {
                RunId = _options.RunId,
                SourceId = message.Id,
                Size = message.Size,
                Outcome = _options.WhatIf ? ReplyOutcome.WhatIf : ReplyOutcome.Done,
            };
            var work = new Work(message, result, new LoadedMessage(_source, message, cancellationToken));
            try
            {
                work.Decision = Decide(message, result, work.Loaded, maxSize);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (ImapConnectionException)
            {
                throw;
            }
            catch (Exception e)
            {
                Fail(result, e as ReplyAdminException ?? Unexpected(message, e));
            }
            return work;
        }

        // The fast path for a batch: exclusions acknowledged with one move, fresh messages claimed with one command,
        // stored in MULTIAPPEND chunks and marked with one command each, the stored ones acknowledged with one move.
        // Whatever a batch step leaves undone goes through ActAsync one message at a time, which resumes from each
        // message's recorded state: a half-done batch step is finished there, never repeated.
        private async Task ActAsync(List<Work> work, CancellationToken cancellationToken)
        {
            try
            {
                var excluded = work.Where(w => w.Live && w.Decision.Disposition == ReplyDisposition.Exclude).ToList();
                await MoveAsync(excluded, SourceDestination.Archive, cancellationToken).ConfigureAwait(false);

                var fresh = work.Where(w => w.Live && w.Decision.Stores && w.Message.State == SourceState.None).ToList();
                await _source.SetStateAsync(fresh.Select(w => w.Message).ToList(), SourceState.Claimed, cancellationToken).ConfigureAwait(false);
                // One MULTIAPPEND for the batch: a batch is at most 50 messages and 8 MB, so its bodies fit comfortably in memory.
                if (fresh.Count > 0)
                {
                    var items = new List<AppendItem>(fresh.Count);
                    foreach (var item in fresh)
                        items.Add(new AppendItem(await item.Loaded.LoadAsync().ConfigureAwait(false), item.Decision.Keywords.ToList(), item.Result.Date ?? item.Message.ReceivedDate));
                    var uids = await _store.AppendAsync(items, cancellationToken).ConfigureAwait(false);
                    for (var i = 0; i < fresh.Count; i++)
                    {
                        fresh[i].Result.DestinationUid = uids[i];
                        fresh[i].Result.Actions.Add($"Stored as UID {uids[i]}");
                    }
                    await _source.SetStateAsync(fresh.Select(w => w.Message).ToList(), SourceState.Stored, cancellationToken).ConfigureAwait(false);
                    foreach (var item in fresh.Where(w => w.Decision.ForwardTo.Count == 0))
                        item.Loaded.Dispose(); // bodies leave memory as soon as they are stored
                }

                var stored = fresh.Where(w => w.Decision.ForwardTo.Count == 0).ToList();
                await MoveAsync(stored, SourceDestination.Processed, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapConnectionException)
            {
                throw;
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // Any failure, even one message that cannot be loaded: the one-at-a-time path gives each message its own outcome.
                _observer.Verbose($"A batch step failed ({(e as ReplyAdminException)?.ErrorId ?? e.GetType().Name}: {e.Message}); handling the rest of the batch one message at a time.");
            }

            foreach (var item in work.Where(w => w.Live))
                await ActAsync(item, cancellationToken).ConfigureAwait(false);
        }

        private async Task MoveAsync(List<Work> work, SourceDestination destination, CancellationToken cancellationToken)
        {
            try
            {
                await _source.MoveAsync(work.Select(w => w.Message).ToList(), destination, null, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var item in work.Where(w => w.Message.AcknowledgedTo != null))
                {
                    item.Result.AcknowledgedTo = item.Message.AcknowledgedTo;
                    item.Result.Actions.Add("Moved to " + item.Result.AcknowledgedTo);
                    item.Done = true;
                }
            }
        }

        // Batches end at this many bytes: large messages then come a few at a time and spread over the workers.
        private const long MaxBatchBytes = 8L * 1024 * 1024;

        // Consecutive batches of at most BatchSize messages and MaxBatchBytes (a larger message is a batch of its own).
        private static IEnumerable<List<SourceMessage>> Batches(IEnumerable<SourceMessage> messages)
        {
            var batch = new List<SourceMessage>();
            long bytes = 0;
            foreach (var message in messages)
            {
                if (batch.Count > 0 && (batch.Count >= ProcessingOptions.BatchSize || bytes + message.Size > MaxBatchBytes))
                {
                    yield return batch;
                    batch = new List<SourceMessage>();
                    bytes = 0;
                }
                batch.Add(message);
                bytes += message.Size;
            }
            if (batch.Count > 0)
                yield return batch;
        }

        // One message, with the failure handling of the processing rules: a server that cannot be reached ends the run;
        // any other failure is this message's, which stays at the source while the run goes on.
        private async Task ActAsync(Work work, CancellationToken cancellationToken)
        {
            try
            {
                await ActAsync(work.Message, work.Decision, work.Result, work.Loaded, cancellationToken).ConfigureAwait(false);
                work.Done = true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (ImapConnectionException)
            {
                throw;
            }
            catch (Exception e)
            {
                var error = e as ReplyAdminException ?? Unexpected(work.Message, e);
                Fail(work.Result, error);
                await CountAttemptAsync(work.Message, work.Result, error, cancellationToken).ConfigureAwait(false);
            }
        }

        private static ReplyAdminException Unexpected(SourceMessage message, Exception e) =>
            new ReplyAdminException("MessageProcessingFailed", ReplyAdminErrorKind.NotSpecified,
                $"Handling message {message.Id} failed: {e.Message}", message.Id, "The message stays at the source; the next run retries it.", e);

        private void Fail(ProcessingResult result, ReplyAdminException e)
        {
            result.Outcome = ReplyOutcome.Failed;
            result.Reason = e.Message;
            result.ErrorId = e.ErrorId;
            result.Error = e;
            result.Actions.Add("Left at the source");
            _observer.Verbose($"Message {result.SourceId} failed ({e.ErrorId}): {e.Message}");
        }

        // A permanent failure counts one attempt at the source; the last allowed one sets the message aside in the
        // dead-letter place. Transient failures (the server or relay away, 4xx, quota) are retried without counting.
        private async Task CountAttemptAsync(SourceMessage message, ProcessingResult result, ReplyAdminException e, CancellationToken cancellationToken)
        {
            var permanent = e.Kind == ReplyAdminErrorKind.InvalidData || e.Kind == ReplyAdminErrorKind.NotSpecified
                || (e.ErrorId == "ImapCommandFailed" && e.Kind == ReplyAdminErrorKind.WriteError);
            if (_options.WhatIf || _options.MaxAttempts <= 0 || !permanent) return;
            var attempt = message.Attempts + 1;
            try
            {
                if (attempt >= _options.MaxAttempts)
                {
                    result.AcknowledgedTo = await MoveAsync(message, SourceDestination.DeadLetter,
                        $"Failed {attempt} times; last error {e.ErrorId}: {e.Message}", cancellationToken).ConfigureAwait(false);
                    result.Actions.Add($"Moved to {result.AcknowledgedTo} after {attempt} failed attempts");
                    _observer.Warning($"Message {message.Id} failed {attempt} times and was set aside in {result.AcknowledgedTo}: {e.Message}");
                }
                else
                {
                    await _source.RecordAttemptAsync(message, cancellationToken).ConfigureAwait(false);
                    result.Actions.Add($"Attempt {attempt} of {_options.MaxAttempts} counted");
                }
            }
            catch (ReplyAdminException bookkeeping)
            {
                // The message stays at the source as it is; the original failure is what the result reports.
                _observer.Verbose($"Counting the failed attempt of message {message.Id} failed too ({bookkeeping.ErrorId}): {bookkeeping.Message}");
            }
        }

        private RoutingDecision Decide(SourceMessage message, ProcessingResult result, LoadedMessage loaded, long maxSize)
        {
            var headers = message.Headers ?? new HeaderList();
            result.MessageId = MessageIdOf(headers);
            result.From = headers["From"];
            result.Subject = headers["Subject"];
            result.Date = DateOf(headers);
            var lists = _resolver.Resolve(headers);
            result.Lists = lists.Select(l => l.Name).ToArray();

            RoutingDecision decision;
            if (message.Headers == null)
            {
                decision = RoutingDecision.Reject(lists, $"the message cannot be read as e-mail ({message.HeaderError})");
            }
            else if (message.Size > maxSize)
            {
                decision = RoutingDecision.Reject(lists, $"{message.Size:N0} bytes is over the limit of {maxSize:N0} bytes");
            }
            else
            {
                var classification = _classifier.Classify(headers, loaded.LoadForClassification);
                result.Class = classification.Class;
                result.Kind = classification.Kind;
                result.Rule = classification.Rule;
                decision = RoutingDecision.Decide(lists, classification);
            }
            result.Disposition = decision.Disposition;
            result.Reason = decision.Reason;
            result.ForwardedTo = decision.ForwardTo.ToArray();
            if (_observer.VerboseEnabled)
                _observer.Verbose($"Message {message.Id} '{result.Subject}' from {result.From}: lists [{string.Join(", ", result.Lists)}], {result.Class} ({result.Rule}) -> {decision.Disposition}" +
                    (decision.Reason != null ? $": {decision.Reason}" : "") + (decision.ForwardTo.Count > 0 ? $", forward to {string.Join(", ", decision.ForwardTo)}" : "") + ".");
            return decision;
        }

        private async Task ActAsync(SourceMessage message, RoutingDecision decision, ProcessingResult result, LoadedMessage loaded, CancellationToken cancellationToken)
        {
            switch (decision.Disposition)
            {
                case ReplyDisposition.Exclude:
                    result.AcknowledgedTo = await MoveAsync(message, SourceDestination.Archive, null, cancellationToken).ConfigureAwait(false);
                    result.Actions.Add("Moved to " + result.AcknowledgedTo);
                    return;

                case ReplyDisposition.Reject:
                    var noticeId = NoticeIdFor(message);
                    await StoreOnceAsync(message, result, noticeId, () => Task.FromResult(TooLargeNotice.WithId(TooLargeNotice.Create(message, result, decision), noticeId)),
                        decision.Keywords, DateTimeOffset.UtcNow, "Notice stored", cancellationToken, verifyContent: false).ConfigureAwait(false);
                    result.AcknowledgedTo = await MoveAsync(message, SourceDestination.Rejected, decision.Reason, cancellationToken).ConfigureAwait(false);
                    result.Actions.Add("Moved to " + result.AcknowledgedTo);
                    return;
            }

            await StoreOnceAsync(message, result, result.MessageId, loaded.LoadAsync, decision.Keywords,
                result.Date ?? message.ReceivedDate, "Stored", cancellationToken).ConfigureAwait(false);

            if (decision.ForwardTo.Count > 0)
            {
                if ((message.State & SourceState.Forwarded) == 0)
                {
                    if (_forwarder == null)
                        throw new ReplyAdminException("SmtpRelayNotConfigured", ReplyAdminErrorKind.ObjectNotFound,
                            $"List(s) {string.Join(", ", result.Lists)} forward replies, but no SMTP relay is configured.", string.Join(", ", result.Lists),
                            "Configure the relay with Set-ReplySmtpRelay; the message stays at the source until then.");
                    await _forwarder.ForwardAsync(await loaded.LoadAsync().ConfigureAwait(false), decision.ForwardTo, cancellationToken).ConfigureAwait(false);
                    result.Actions.Add("Forwarded to " + string.Join(", ", decision.ForwardTo));
                    await SetStateAsync(message, SourceState.Forwarded, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    result.Actions.Add("Already forwarded by an earlier run");
                }
            }

            result.AcknowledgedTo = await MoveAsync(message, SourceDestination.Processed, null, cancellationToken).ConfigureAwait(false);
            result.Actions.Add("Moved to " + result.AcknowledgedTo);
        }

        // Exactly-once storing: claim at the source, append, mark stored. A claimed but unmarked message was
        // interrupted between the two: look for the copy in the reply folder before appending again.
        private async Task StoreOnceAsync(SourceMessage message, ProcessingResult result, string identity, Func<Task<MimeMessage>> load,
            IReadOnlyList<string> keywords, DateTimeOffset? date, string verb, CancellationToken cancellationToken, bool verifyContent = true)
        {
            if ((message.State & SourceState.Stored) != 0)
            {
                if (result.DestinationUid == null) // else stored by this run's batch step
                    result.Actions.Add($"{verb} by an earlier run");
                return;
            }
            uint? uid = null;
            var found = false;
            if ((message.State & SourceState.Claimed) != 0)
            {
                // Notices (verifyContent false) carry a unique derived Message-ID and a new Date each time: the ID decides.
                uid = await _store.FindAsync(identity, verifyContent ? await load().ConfigureAwait(false) : null, cancellationToken).ConfigureAwait(false);
                found = uid.HasValue;
            }
            else if ((message.State & SourceState.Claimed) == 0)
            {
                await SetStateAsync(message, SourceState.Claimed, cancellationToken).ConfigureAwait(false);
            }
            if (!found)
                uid = (await _store.AppendAsync(new[] { new AppendItem(await load().ConfigureAwait(false), keywords.ToList(), date) }, cancellationToken).ConfigureAwait(false))[0];
            result.DestinationUid = uid;
            result.Actions.Add(found ? $"{verb} by an interrupted run (UID {uid})" : $"{verb} as UID {uid}");
            await SetStateAsync(message, SourceState.Stored, cancellationToken).ConfigureAwait(false);
        }

        private Task SetStateAsync(SourceMessage message, SourceState state, CancellationToken cancellationToken) =>
            _source.SetStateAsync(new[] { message }, state, cancellationToken);

        private async Task<string> MoveAsync(SourceMessage message, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            await _source.MoveAsync(new[] { message }, destination, reason, cancellationToken).ConfigureAwait(false);
            return message.AcknowledgedTo;
        }

        // The notice's Message-ID is derived from the source message, so a re-run finds the notice it already stored.
        private string NoticeIdFor(SourceMessage message)
        {
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(_source.Description + "\n" + message.Id + "\n" + MessageIdOf(message.Headers ?? new HeaderList())));
                return "notice." + BitConverter.ToString(hash, 0, 12).Replace("-", "").ToLowerInvariant() + "@replyadmin.invalid";
            }
        }

        internal static string MessageIdOf(HeaderList headers)
        {
            var value = headers["Message-ID"];
            if (string.IsNullOrWhiteSpace(value)) return null;
            try { return MimeUtils.ParseMessageId(value) ?? value.Trim().Trim('<', '>'); }
            catch (Exception) { return value.Trim().Trim('<', '>'); }
        }

        private static DateTimeOffset? DateOf(HeaderList headers)
        {
            var value = headers["Date"];
            return value != null && DateUtils.TryParse(value, out var date) ? date : (DateTimeOffset?)null;
        }

        /// <summary>The whole message, loaded from the source at most once and only when needed.</summary>
        private sealed class LoadedMessage : IDisposable
        {
            private readonly IReplySource _source;
            private readonly SourceMessage _message;
            private readonly CancellationToken _cancellationToken;
            private Stream _stream;
            private Stream _start;
            private MimeMessage _parsed;
            private MimeMessage _classified;

            public LoadedMessage(IReplySource source, SourceMessage message, CancellationToken cancellationToken)
            {
                _source = source;
                _message = message;
                _cancellationToken = cancellationToken;
            }

            // The classifier reads the first text parts, which sit at the start of a message: an IMAP source sends
            // only this much of a larger one, so an out-of-office reply with attachments costs no download of them.
            private const int ClassificationBytes = 16 * 1024;

            // The classifier gets MimeKit's full parse (of the start, where that is all it got); storing and
            // forwarding get the raw message.
            public MimeMessage LoadForClassification()
            {
                if (_classified != null) return _classified;
                Stream stream = _stream;
                if (stream == null)
                {
                    stream = _source.OpenMessageStartAsync(_message, ClassificationBytes, _cancellationToken).GetAwaiter().GetResult();
                    if (stream.Length >= _message.Size) _stream = stream; // the whole message: kept for storing
                    else _start = stream;
                }
                stream.Position = 0;
                _classified = MessageHeaderReader.ReadMessage(stream, persistent: true);
                return _classified;
            }

            public async Task<MimeMessage> LoadAsync()
            {
                if (_parsed != null) return _parsed;
                await OpenAsync().ConfigureAwait(false);
                _stream.Position = 0;
                // The body stays in the stream: nothing is copied or re-encoded, and the original bytes are written back.
                _parsed = await RawMessage.LoadAsync(_stream, _message.Headers, _cancellationToken).ConfigureAwait(false);
                return _parsed;
            }

            private async Task OpenAsync()
            {
                if (_stream == null)
                    _stream = await _source.OpenMessageAsync(_message, _cancellationToken).ConfigureAwait(false);
            }

            public void Dispose()
            {
                _classified?.Dispose();
                _parsed?.Dispose();
                _stream?.Dispose();
                _start?.Dispose();
                _classified = _parsed = null;
                _stream = _start = null;
            }
        }
    }
}
