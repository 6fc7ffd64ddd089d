using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Utils;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The processing loop: for each waiting reply, read headers and size, resolve lists, classify, decide, then act
    /// through the <see cref="AcknowledgementProtocol"/>, which acknowledges at the source only after every action
    /// succeeded. Batches go to workers (<see cref="BatchScheduler"/>); failures are judged by <see cref="FailurePolicy"/>.
    /// </summary>
    public sealed class ReplyProcessor
    {
        private readonly ListResolver _resolver;
        private readonly IReplyClassifier _classifier;
        private readonly IReplySource _source;
        private readonly IReplyStore _store;
        private readonly IProcessingObserver _observer;
        private readonly ProcessingOptions _options;
        private readonly Journal _journal;
        private readonly FailurePolicy _failures;
        private readonly AcknowledgementProtocol _protocol;

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
            _observer = observer;
            _options = options;
            _journal = journal;
            _failures = new FailurePolicy(source, observer, options);
            _protocol = new AcknowledgementProtocol(source, store, forwarder, _failures, observer);
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
            Task Handle(List<SourceMessage> batch) => HandleBatchAsync(batch, maxSize, run, cancellationToken);
            // Messages an earlier run left half-done first, by one worker, before this run stores anything: a copy
            // without a Message-ID is found by its size among the newest messages of the reply folder, and this
            // run's own copies would push the interrupted run's further back.
            await BatchScheduler.RunAsync(BatchScheduler.Batches(messages.Where(m => m.State != SourceState.None)), 1, Handle).ConfigureAwait(false);
            await BatchScheduler.RunAsync(BatchScheduler.Batches(messages.Where(m => m.State == SourceState.None)), _options.ThrottleLimit, Handle).ConfigureAwait(false);
            summary.Duration = DateTimeOffset.UtcNow - summary.Started;
            return summary;
        }

        private async Task HandleBatchAsync(List<SourceMessage> batch, long maxSize, RunState run, CancellationToken cancellationToken)
        {
            // A batch whose headers cannot be read fails message by message (they stay at the source); only a run-scoped error ends the run.
            var loadFailure = await GoneMessages.LoadHeadersAsync(_source, batch, cancellationToken).ConfigureAwait(false);
            var work = new List<WorkItem>(batch.Count);
            try
            {
                foreach (var message in batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (run.ProgressDue(out var handled))
                        _observer.Progress(handled, run.Total, message.Headers?["Subject"] ?? message.Id);
                    work.Add(loadFailure != null || message.Gone ? Undecided(message, loadFailure) : Decide(message, maxSize, cancellationToken));
                }
                if (!_options.WhatIf)
                    await _protocol.ActAsync(work, cancellationToken).ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.Scope == FailureScope.Run)
            {
                // The run ends; what was not done stays at the source.
                foreach (var item in work.Where(w => w.Live))
                    _failures.Fail(item.Result, e);
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

        // A message whose headers could not be loaded, or that is gone: nothing is decided or done for it.
        private WorkItem Undecided(SourceMessage message, ReplyAdminException loadFailure)
        {
            var result = new ProcessingResult { RunId = _options.RunId, SourceId = message.Id, Size = message.Size };
            if (message.Gone) GoneMessages.Mark(result, "it was no longer there when this run read its headers");
            else _failures.Fail(result, loadFailure);
            return new WorkItem(message, result, new MessageLoader(_source, message, CancellationToken.None));
        }

        // Step 1 of the protocol: read, resolve, classify, decide. A failure here is the message's alone.
        private WorkItem Decide(SourceMessage message, long maxSize, CancellationToken cancellationToken)
        {
            var result = new ProcessingResult
            {
                RunId = _options.RunId,
                SourceId = message.Id,
                Size = message.Size,
                Outcome = _options.WhatIf ? ReplyOutcome.WhatIf : ReplyOutcome.Done,
            };
            var item = new WorkItem(message, result, new MessageLoader(_source, message, cancellationToken));
            try
            {
                item.Decision = Decide(message, result, item.Body, maxSize);
                item.Content = item.Decision.Disposition == ReplyDisposition.Reject ? NoticeFor(item) : ReplyFor(item);
            }
            catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
            {
                _failures.Fail(result, FailurePolicy.AsError(message, e));
            }
            return item;
        }

        private RoutingDecision Decide(SourceMessage message, ProcessingResult result, MessageLoader body, long maxSize)
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
                var classification = _classifier.Classify(headers, body.LoadForClassification);
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

        // The reply itself, with its original bytes; a recovery search knows it by Message-ID and content.
        private static StoredContent ReplyFor(WorkItem item) =>
            new StoredContent("Stored", item.Result.MessageId, verifyContent: true, item.Body.LoadAsync, item.Result.Date ?? item.Message.ReceivedDate);

        // The notice stored in place of a rejected reply. Its Message-ID is derived from the source and the message, so a
        // re-run finds the notice it already stored.
        private StoredContent NoticeFor(WorkItem item)
        {
            string id;
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(_source.Description + "\n" + item.Message.Id + "\n" + item.Result.MessageId));
                id = "notice." + BitConverter.ToString(hash, 0, 12).Replace("-", "").ToLowerInvariant() + "@replyadmin.invalid";
            }
            return new StoredContent("Notice stored", id, verifyContent: false,
                () => Task.FromResult(TooLargeNotice.WithId(TooLargeNotice.Create(item.Message, item.Result, item.Decision), id)), DateTimeOffset.UtcNow);
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

        /// <summary>What the workers of one run share: the totals and the progress clock.</summary>
        private sealed class RunState
        {
            private readonly Stopwatch _progress = Stopwatch.StartNew();
            private int _handled;
            private bool _shown;

            public RunState(ProcessingSummary summary, int total)
            {
                Summary = summary;
                Total = total;
            }

            public ProcessingSummary Summary { get; }
            public int Total { get; }

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
                    Summary.Count(result);
                }
            }
        }
    }
}
