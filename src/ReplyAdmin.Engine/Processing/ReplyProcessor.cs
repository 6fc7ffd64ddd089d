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
        private readonly ContentScan _scan;
        private readonly SenderAuthentication.SenderCheck _senderCheck;

        /// <summary>Creates a processor for one run.</summary>
        /// <param name="lists">The configured lists.</param>
        /// <param name="classifier">Decides the class of each message.</param>
        /// <param name="source">Where replies wait.</param>
        /// <param name="store">The reply folder.</param>
        /// <param name="forwarder">The SMTP relay; null when no list forwards.</param>
        /// <param name="observer">Receives verbose output, progress and results.</param>
        /// <param name="options">Run options.</param>
        /// <param name="journal">Where results are recorded; null for none.</param>
        /// <param name="scanners">Content scanners every stored or forwarded reply goes through first; null or empty for none.</param>
        /// <param name="trustedRelays">Our own relays, whose Received lines the scanners' envelope skips.</param>
        /// <param name="senderAuthentication">Verifies senders and decides forward modes; null: no verification, forwards unchanged.</param>
        /// <param name="relayAddress">The relay's envelope sender: the From of a rewritten or wrapped forward, and of a forwarded notice.</param>
        /// <param name="serverCopy">The server-side copy into the reply folder when the source's session reaches it (own account, or shared with it); null for none.</param>
        public ReplyProcessor(IReadOnlyList<ReplyList> lists, IReplyClassifier classifier, IReplySource source, IReplyStore store,
            IReplyForwarder forwarder, IProcessingObserver observer, ProcessingOptions options, Journal journal = null,
            IReadOnlyList<Scanning.IContentScanner> scanners = null, IReadOnlyList<string> trustedRelays = null,
            SenderAuthentication.SenderAuthenticationSettings senderAuthentication = null, string relayAddress = null, IServerSideCopy serverCopy = null)
        {
            _senderCheck = senderAuthentication != null ? new SenderAuthentication.SenderCheck(senderAuthentication, relayAddress) : null;
            _scan = scanners != null && scanners.Count > 0 ? new ContentScan(scanners, trustedRelays) : null;
            _resolver = new ListResolver(lists);
            _classifier = classifier;
            _source = source;
            _store = store;
            _observer = observer;
            _options = options;
            _journal = journal;
            _failures = new FailurePolicy(source, observer, options);
            _protocol = new AcknowledgementProtocol(source, store, forwarder, _failures, observer, journal, serverCopy);
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
            // A pinned certificate that expired or names another host is accepted with a warning, once per run.
            var certificateWarnings = new HashSet<string>();
            Imap.CertificateCheck.Warn.Value = warning => { lock (certificateWarnings) if (!certificateWarnings.Add(warning)) return; _observer.Warning(warning); };
            // Both at once: each is a connection, a TLS handshake and a login, and neither waits for the other. Should both
            // fail, the source's error is the one reported.
            _observer.Verbose($"Opening the source {_source.Description}.");
            _observer.Verbose($"Opening the reply folder {_store.Description}.");
            await Task.WhenAll(_source.OpenAsync(cancellationToken), _store.OpenAsync(cancellationToken)).ConfigureAwait(false);

            var maxSize = _store.ServerAppendLimit.HasValue ? Math.Min(_options.MaxMessageSize, _store.ServerAppendLimit.Value) : _options.MaxMessageSize;
            var waiting = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
            var messages = _options.MaxMessages.HasValue ? waiting.Take(_options.MaxMessages.Value).ToList() : waiting.ToList();
            _observer.Verbose($"{waiting.Count} messages wait at the source; handling {messages.Count}; largest accepted size {maxSize} bytes.");
            if (_source is ISetAsideSource setAside)
            {
                // Set-aside messages wait for a person: remind once per run for as long as any are there.
                summary.SetAside = await setAside.CountSetAsideAsync(cancellationToken).ConfigureAwait(false);
                if (summary.SetAside > 0)
                    _observer.Warning($"{summary.SetAside} message(s) wait in {setAside.SetAsidePlace}, set aside after failing {_options.MaxAttempts} times. " +
                        "Look at the reason kept with each (Get-ReplyJournal -Outcome Failed), fix the cause, then move them back to the source or delete them.");
            }

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
                var bodies = await OpenBodiesAsync(batch, loadFailure == null, maxSize, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    var message = batch[i];
                    cancellationToken.ThrowIfCancellationRequested();
                    if (run.ProgressDue(out var handled))
                        _observer.Progress(handled, run.Total, message.Headers?["Subject"] ?? message.Id);
                    work.Add(loadFailure != null || message.Gone ? Undecided(message, bodies[i], loadFailure) : Decide(message, bodies[i], maxSize, cancellationToken));
                }
                foreach (var item in work.Where(w => w.Live))
                    await ScanAsync(item, cancellationToken).ConfigureAwait(false);
                foreach (var item in work.Where(w => w.Live))
                    await CheckSenderAsync(item, cancellationToken).ConfigureAwait(false);
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
        private WorkItem Undecided(SourceMessage message, MessageLoader body, ReplyAdminException loadFailure)
        {
            var result = new ProcessingResult { RunId = _options.RunId, SourceId = message.Id, Size = message.Size };
            if (message.Gone) GoneMessages.Mark(result, "it was no longer there when this run read its headers");
            else _failures.Fail(result, loadFailure);
            return new WorkItem(message, result, body);
        }

        // The batch's bodies, not loaded yet, except the starts the classifier will read: where the headers leave a
        // message's class open, the classifier reads its start, and those starts are fetched here for the whole batch.
        private async Task<MessageLoader[]> OpenBodiesAsync(List<SourceMessage> batch, bool headersRead, long maxSize, CancellationToken cancellationToken)
        {
            var bodies = batch.Select(m => new MessageLoader(_source, m, cancellationToken)).ToArray();
            if (!headersRead) return bodies;
            var wanted = new List<MessageLoader>();
            for (var i = 0; i < batch.Count; i++)
            {
                var message = batch[i];
                if (message.Gone || message.Headers == null || message.Headers.Count == 0 || message.Size > maxSize) continue;
                try
                {
                    bodies[i].HeaderVerdict = _classifier.Classify(message.Headers, null);
                }
                catch (Exception)
                {
                    // Decide classifies it again (a failure there is this message's alone), and may then read the start.
                    wanted.Add(bodies[i]);
                    continue;
                }
                if (bodies[i].HeaderVerdict.BodyWanted) wanted.Add(bodies[i]);
            }
            await MessageLoader.LoadStartsAsync(wanted, cancellationToken).ConfigureAwait(false);
            return bodies;
        }

        // Step 1 of the protocol: read, resolve, classify, decide. A failure here is the message's alone.
        private WorkItem Decide(SourceMessage message, MessageLoader body, long maxSize, CancellationToken cancellationToken)
        {
            var result = new ProcessingResult
            {
                RunId = _options.RunId,
                SourceId = message.Id,
                Size = message.Size,
                Outcome = _options.WhatIf ? ReplyOutcome.WhatIf : ReplyOutcome.Done,
            };
            var item = new WorkItem(message, result, body);
            try
            {
                item.Decision = Decide(message, result, item.Body, maxSize);
                item.Content = ContentFor(item);
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
            var lists = _resolver.Resolve(headers, out var decidedBy);
            result.Lists = lists.Select(l => l.Name).ToArray();
            result.ListHeader = decidedBy;

            RoutingDecision decision;
            if (message.Headers == null || message.Headers.Count == 0)
            {
                decision = RoutingDecision.RejectUnreadable(lists, $"the message cannot be read as e-mail ({message.HeaderError ?? "it has no header fields"})");
            }
            else if (message.Size > maxSize)
            {
                decision = RoutingDecision.Reject(lists, $"{message.Size:N0} bytes is over the limit of {maxSize:N0} bytes");
            }
            else
            {
                ReplyClassification classification = null;
                var parseError = "it does not parse";
                try
                {
                    classification = body.HeaderVerdict != null && !body.HeaderVerdict.BodyWanted ? body.HeaderVerdict
                        : _classifier.Classify(headers, body.LoadForClassification);
                }
                catch (FormatException e)
                {
                    parseError = e.Message;
                }
                // The source gave header fields (an IMAP server's own reading), but the message itself does not parse:
                // the same outcome as a file whose headers cannot be read.
                if (classification?.Rule == MalformedRule)
                {
                    result.Rule = classification.Rule;
                    parseError = "MimeKit cannot parse its header block";
                }
                if (classification != null && classification.Rule != MalformedRule)
                {
                    result.Class = classification.Class;
                    result.Kind = classification.Kind;
                    result.Rule = classification.Rule;
                    decision = RoutingDecision.Decide(lists, classification);
                }
                else
                {
                    decision = RoutingDecision.RejectUnreadable(lists, $"the message cannot be read as e-mail ({parseError})");
                }
            }
            result.Disposition = decision.Disposition;
            result.Reason = decision.Reason;
            result.ForwardedTo = decision.ForwardTo.ToArray();
            if (_observer.VerboseEnabled)
                _observer.Verbose($"Message {message.Id} '{result.Subject}' from {result.From}: lists [{string.Join(", ", result.Lists)}], {result.Class} ({result.Rule}) -> {decision.Disposition}" +
                    (decision.Reason != null ? $": {decision.Reason}" : "") + (decision.ForwardTo.Count > 0 ? $", forward to {string.Join(", ", decision.ForwardTo)}" : "") + ".");
            return decision;
        }

        // The scan may change the decision (a notice instead of the reply, no forward, keywords); it fails only its message.
        private async Task ScanAsync(WorkItem item, CancellationToken cancellationToken)
        {
            if (_scan == null) return;
            try
            {
                await _scan.ApplyAsync(item, cancellationToken).ConfigureAwait(false);
                item.Content = ContentFor(item);
                if (_observer.VerboseEnabled && item.Scan != null)
                    _observer.Verbose($"Message {item.Message.Id} scanned: {item.Scan.Outcome}; {string.Join("; ", item.Result.Scan)}.");
            }
            catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
            {
                _failures.Fail(item.Result, FailurePolicy.AsError(item.Message, e));
            }
        }

        // The sender check may mark the reply $Phishing and drop its forward, and decides the forward mode; it fails only its message.
        private async Task CheckSenderAsync(WorkItem item, CancellationToken cancellationToken)
        {
            if (_senderCheck == null) return;
            try
            {
                await _senderCheck.ApplyAsync(item, cancellationToken).ConfigureAwait(false);
                if (_observer.VerboseEnabled && item.Result.SenderAuthentication != null)
                    _observer.Verbose($"Message {item.Message.Id} sender: {item.Result.SenderAuthentication}" + (item.Forward != null ? $"; forward {item.Forward}." : "."));
            }
            catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
            {
                _failures.Fail(item.Result, FailurePolicy.AsError(item.Message, e));
            }
        }

        private StoredContent ContentFor(WorkItem item) =>
            !item.Decision.StoresNotice ? ReplyFor(item)
            : item.Decision.Unreadable ? OriginalOrNoticeFor(item, item.Decision) : NoticeFor(item);

        // The classifier's rule for a message it could not parse at all.
        private const string MalformedRule = "MessageMalformed";

        // The reply itself, with its original bytes; a recovery search knows it by Message-ID and content. Header fields a
        // list asked the scan to add (X-Spam-Flag, X-Spam-Status) go on top, where they leave DKIM signatures valid.
        // Where MimeKit cannot read it after all (an IMAP server gave header fields of its own reading), it is unreadable.
        private StoredContent ReplyFor(WorkItem item)
        {
            var prepend = item.Scan?.PrependHeaders;
            Func<Task<MimeMessage>> load = item.Body.LoadAsync;
            if (prepend != null)
            {
                var added = false;
                load = async () =>
                {
                    var message = await item.Body.LoadAsync().ConfigureAwait(false);
                    if (added) return message;
                    added = true;
                    using (var fields = new System.IO.MemoryStream(Encoding.ASCII.GetBytes(prepend + "\r\n")))
                    {
                        var headers = HeaderList.Load(fields);
                        for (var i = headers.Count - 1; i >= 0; i--)
                            message.Headers.Insert(0, headers[i]);
                    }
                    return message;
                };
            }
            return new StoredContent("Stored", item.Result.MessageId, verifyContent: true, load, item.Result.Date ?? item.Message.ReceivedDate)
            {
                Unchanged = prepend == null,
                ReadsSource = true,
                Fallback = OriginalOrNoticeFor(item, RoutingDecision.RejectUnreadable(item.Decision.Lists, "the message cannot be read as e-mail (MimeKit cannot parse it)")),
            };
        }

        // An unreadable message: the original as it came, as the body of a message of ours, so staff can judge it; where the
        // server refuses that, the notice. Recovery knows it by its bytes (no Message-ID of its own).
        private StoredContent OriginalOrNoticeFor(WorkItem item, RoutingDecision decision)
        {
            var notice = NoticeFor(item);
            notice.Decision = decision;
            return new StoredContent("Stored as it came", null, verifyContent: true, () => item.Body.LoadEnclosedAsync(EnclosingHeaders()), item.Message.ReceivedDate)
            {
                Fallback = notice,
                RefusalFallsBack = true,
                ReadsSource = true,
                Decision = decision,
            };
        }

        private static HeaderList EnclosingHeaders()
        {
            var headers = new HeaderList
            {
                new Header(HeaderId.From, new MailboxAddress("ReplyAdmin", "replyadmin@replyadmin.invalid").ToString()),
                new Header(HeaderId.Subject, "[ReplyAdmin] Unreadable reply, enclosed as it came"),
                new Header(UnreadableField, "the header block could not be read; the original follows unchanged as the body"),
            };
            return headers;
        }

        // The header field that marks a stored unreadable message.
        internal const string UnreadableField = "X-ReplyAdmin-Unreadable";

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
            // A scan's notice quotes nothing of the original and sets no Reply-To (a virus sender is often forged).
            Func<MimeMessage> create = item.Scan != null
                ? () => Scanning.QuarantineNotice.Create(item.Message.Headers, item.Decision.Lists, item.Scan, item.Message.Size, "Quarantine (beside Rejected, in the inbound mailbox)")
                : (Func<MimeMessage>)(() => TooLargeNotice.Create(item.Message, item.Result, item.Decision));
            return new StoredContent("Notice stored", id, verifyContent: false, () => Task.FromResult(TooLargeNotice.WithId(create(), id)), DateTimeOffset.UtcNow);
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
