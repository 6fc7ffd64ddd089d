using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The acknowledgement protocol of docs/acknowledgement.md, written once. Each step takes a set of messages and does its
    /// work for all of them in one command where the source and the reply folder allow (one claim, one MULTIAPPEND, one
    /// mark, one move); one message at a time is the same code with a set of one. Every step resumes from the state a
    /// message has recorded, so a step interrupted by a crash or a failure is finished later, never repeated.
    /// </summary>
    /// <remarks>
    /// Steps, as in the document's table: 2 claim, 3 append (or find the copy an interrupted run stored), 4 mark stored,
    /// 5 forward, 6 mark forwarded, 7 acknowledge. Step 1 (reading headers and deciding) is the processor's.
    /// </remarks>
    internal sealed class AcknowledgementProtocol
    {
        private readonly IReplySource _source;
        private readonly IReplyStore _store;
        private readonly IReplyForwarder _forwarder;
        private readonly FailurePolicy _failures;
        private readonly IProcessingObserver _observer;
        private readonly Journal _journal;
        private readonly IServerSideCopy _serverCopy;

        public AcknowledgementProtocol(IReplySource source, IReplyStore store, IReplyForwarder forwarder, FailurePolicy failures, IProcessingObserver observer, Journal journal = null,
            IServerSideCopy serverCopy = null)
        {
            _serverCopy = serverCopy;
            _journal = journal;
            _source = source;
            _store = store;
            _forwarder = forwarder;
            _failures = failures;
            _observer = observer;
        }

        /// <summary>
        /// Acts on a batch: all steps for the whole set; when a step fails for any reason that does not end the run, the
        /// messages not yet done go through the steps one at a time, each from the state it has reached, so each gets its
        /// own outcome.
        /// </summary>
        /// <exception cref="ReplyAdminException">An error of <see cref="FailureScope.Run"/>: the run ends; what was not done stays at the source.</exception>
        public async Task ActAsync(IReadOnlyList<WorkItem> batch, CancellationToken cancellationToken)
        {
            try
            {
                await StepsAsync(batch.Where(w => w.Live).ToList(), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
            {
                _observer.Verbose($"A batch step failed ({(e as ReplyAdminException)?.ErrorId ?? e.GetType().Name}: {e.Message}); handling the rest of the batch one message at a time.");
            }
            foreach (var item in batch.Where(w => w.Live).ToList())
            {
                try
                {
                    await StepsAsync(new[] { item }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
                {
                    await _failures.FailAsync(item, e, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async Task StepsAsync(IReadOnlyList<WorkItem> items, CancellationToken cancellationToken)
        {
            // An excluded auto-reply is only acknowledged, with its class as a keyword at the source: deciding again gives the same result.
            foreach (var item in items.Where(w => w.Decision.Disposition == ReplyDisposition.Exclude))
                item.Message.Labels = item.Decision.Keywords;
            await AcknowledgeAsync(items.Where(w => w.Decision.Disposition == ReplyDisposition.Exclude).ToList(), SourceDestination.Archive, null, cancellationToken).ConfigureAwait(false);

            // Everything else puts something in the reply folder: the reply, or for a rejected or quarantined one a notice.
            var storing = items.Where(w => w.Decision.Disposition != ReplyDisposition.Exclude).ToList();
            await StoreAsync(storing, cancellationToken).ConfigureAwait(false);
            await ForwardAsync(storing.Where(w => w.Decision.ForwardTo.Count > 0).ToList(), cancellationToken).ConfigureAwait(false);

            // A message held at the source (its forward waits for a scanner) is stored but not acknowledged.
            await AcknowledgeAsync(storing.Where(w => !w.Decision.StoresNotice && !w.Decision.HoldAtSource).ToList(), SourceDestination.Processed, null, cancellationToken).ConfigureAwait(false);
            foreach (var setAside in storing.Where(w => w.Decision.StoresNotice).GroupBy(w => (w.Decision.Disposition, w.Decision.Reason)))
                await AcknowledgeAsync(setAside.ToList(), setAside.Key.Disposition == ReplyDisposition.Quarantine ? SourceDestination.Quarantine : SourceDestination.Rejected,
                    setAside.Key.Reason, cancellationToken).ConfigureAwait(false);
        }

        // Steps 2-4, exactly once: claim, append (or find the copy an interrupted run stored), mark stored.
        private async Task StoreAsync(IReadOnlyList<WorkItem> items, CancellationToken cancellationToken)
        {
            var open = new List<WorkItem>();
            foreach (var item in items.Where(w => !w.StoreSettled))
            {
                if ((item.Message.State & SourceState.Stored) != 0)
                {
                    item.Result.Actions.Add($"{item.Content.Verb} by an earlier run");
                    item.StoreSettled = true;
                }
                else
                {
                    open.Add(item);
                }
            }
            if (open.Count == 0) return;

            // Claimed but not marked stored: a run was interrupted between claim and mark, so the copy may exist. Look
            // before appending. Piped files keep no state and always count as claimed.
            var earlier = new HashSet<WorkItem>(open.Where(w => w.HasCopy));
            var sought = new HashSet<WorkItem>();
            foreach (var item in open.Where(w => !w.HasCopy && (w.Message.State & SourceState.Claimed) != 0))
            {
                sought.Add(item);
                // The interrupted run may have stored a fallback (the original would not load, or the server refused it).
                uint? uid = null;
                for (var content = item.Content; content != null; content = content.Fallback)
                {
                    var (candidate, unloadable) = await FindAsync(content, cancellationToken).ConfigureAwait(false);
                    uid = candidate;
                    if (uid.HasValue)
                        while (item.Content != content) UseFallback(item);
                    if (uid.HasValue || !(unloadable || content.RefusalFallsBack)) break;
                }
                var found = item.Content;
                if (uid.HasValue)
                {
                    item.HasCopy = true;
                    item.Result.DestinationUid = uid;
                    item.Result.Actions.Add($"{found.Verb} by an interrupted run (UID {uid})");
                }
            }

            await _source.SetStateAsync(open.Where(w => w.Message.State == SourceState.None).Select(w => w.Message).ToList(), SourceState.Claimed, cancellationToken).ConfigureAwait(false);

            // Replies stored unchanged, when the source reaches the reply folder (own account or shared): one UID COPY on the server
            // (all or none), no bytes through this client. Like an APPEND it comes after the claim and before the mark.
            if (_serverCopy != null)
                await CopyAsync(open.Where(w => !w.HasCopy && w.Content.Unchanged).ToList(), cancellationToken).ConfigureAwait(false);

            // One MULTIAPPEND for the set (all or none): a batch is at most 50 messages and 8 MB, so its bodies fit in memory.
            var append = open.Where(w => !w.HasCopy).ToList();
            if (append.Count > 0)
            {
                await FetchBodiesAsync(append, cancellationToken).ConfigureAwait(false);
                var appendItems = new List<AppendItem>(append.Count);
                foreach (var item in append)
                    appendItems.Add(await AppendItemOfAsync(item).ConfigureAwait(false));
                IReadOnlyList<uint?> uids;
                try
                {
                    uids = await _store.AppendAsync(appendItems, cancellationToken).ConfigureAwait(false);
                }
                catch (ReplyAdminException e) when (append.Count == 1 && append[0].Content.RefusalFallsBack && e.Scope == FailureScope.Message && !e.Transient)
                {
                    // The server refused the original as it came: the notice goes in its place.
                    _observer.Verbose($"The reply folder refused message {append[0].Message.Id} as it came ({e.ErrorId}: {e.Message}); storing a notice instead.");
                    UseFallback(append[0]);
                    uids = await _store.AppendAsync(new[] { await AppendItemOfAsync(append[0]).ConfigureAwait(false) }, cancellationToken).ConfigureAwait(false);
                }
                for (var i = 0; i < append.Count; i++)
                {
                    append[i].HasCopy = true;
                    append[i].Result.DestinationUid = uids[i];
                    append[i].Result.Actions.Add($"{append[i].Content.Verb} as UID {uids[i]}");
                }
            }
            await SettleTwinsAsync(open.Where(w => w.HasCopy && !earlier.Contains(w)).ToList(), sought, cancellationToken).ConfigureAwait(false);

            await _source.SetStateAsync(open.Select(w => w.Message).ToList(), SourceState.Stored, cancellationToken).ConfigureAwait(false);
            foreach (var item in open)
            {
                item.StoreSettled = true;
                if (item.Decision.ForwardTo.Count == 0)
                    item.Body.Dispose(); // bodies leave memory as soon as they are stored
            }
        }

        // A host stalled mid-APPEND (or mid-COPY) past its lease completes it when it resumes, maybe after the host that took
        // over looked for those replies' copies, found none, and stored its own. Whichever copy came later is taken back by
        // the host that stored it: the stalled host learns here that it lost the lease, checks every copy it just stored, and
        // stops; a host that found a message claimed without a copy checks the copy it stored for it. The earliest stays.
        private async Task SettleTwinsAsync(IReadOnlyList<WorkItem> stored, ISet<WorkItem> sought, CancellationToken cancellationToken)
        {
            if (stored.Count == 0) return;
            ReplyAdminException lost = null;
            if (_store is ILeasedReplyStore leased)
            {
                try
                {
                    await leased.ConfirmLeaseAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ReplyAdminException e) when (e.ErrorId == ErrorIds.LeaseLost)
                {
                    lost = e;
                }
            }
            foreach (var item in stored.Where(w => w.Result.DestinationUid.HasValue && (lost != null || sought.Contains(w))))
            {
                var uid = item.Result.DestinationUid.Value;
                try
                {
                    var content = item.Content.VerifyContent ? await item.Content.Load().ConfigureAwait(false) : null;
                    var twin = await _store.RemoveIfStoredEarlierAsync(uid, item.Content.Identity, content, cancellationToken).ConfigureAwait(false);
                    if (!twin.HasValue) continue;
                    item.Result.DestinationUid = twin;
                    item.Result.Actions.Add($"{item.Content.Verb} twice (a host stalled past its lease stored it late): kept UID {twin}, removed UID {uid}");
                    _observer.Verbose($"Message {item.Message.Id} was stored twice: kept UID {twin}, removed this run's UID {uid}.");
                }
                catch (ReplyAdminException e)
                {
                    _observer.Warning($"Message {item.Message.Id} may be stored twice in {_store.Description} (UID {uid}); checking for an earlier copy failed: {e.Message}");
                }
            }
            if (lost != null) throw lost;
        }

        // The bodies the MULTIAPPEND needs, in one FETCH where the source allows (a body is fetched once in any case; this
        // saves a round trip per message). A body the batch did not bring, or a batch fetch that failed, leaves each message
        // to its own fetch while its content loads, which tells a message that is gone from a failure.
        private async Task FetchBodiesAsync(IReadOnlyList<WorkItem> items, CancellationToken cancellationToken)
        {
            if (!(_source is IBatchFetchSource batch)) return;
            var wanted = items.Where(w => w.Content.ReadsSource && !w.Body.HasOriginal).ToList();
            if (wanted.Count < 2) return;
            IReadOnlyList<System.IO.Stream> streams;
            try
            {
                streams = await batch.OpenMessagesAsync(wanted.Select(w => w.Message).ToList(), cancellationToken).ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.Scope == FailureScope.Message)
            {
                _observer.Verbose($"Fetching {wanted.Count} messages at once failed ({e.ErrorId}: {e.Message}); fetching them one at a time.");
                return;
            }
            for (var i = 0; i < wanted.Count; i++)
                if (streams[i] != null) wanted[i].Body.Provide(streams[i]);
        }

        private async Task CopyAsync(IReadOnlyList<WorkItem> copying, CancellationToken cancellationToken)
        {
            if (copying.Count == 0) return;
            var uids = await _serverCopy.CopyAsync(copying.Select(w => w.Message).ToList(),
                copying.Select(w => (IReadOnlyCollection<string>)w.Decision.Keywords.ToList()).ToList(), cancellationToken).ConfigureAwait(false);
            if (uids == null) return; // the server cannot name the copies: they are appended instead
            for (var i = 0; i < copying.Count; i++)
            {
                if (!uids[i].HasValue) continue;
                copying[i].HasCopy = true;
                copying[i].Result.DestinationUid = uids[i];
                copying[i].Result.Actions.Add($"{copying[i].Content.Verb} as UID {uids[i]} (copied on the server)");
            }
            // A message the server did not copy is no longer at the source (another host or a person moved it): it must
            // not be appended from a body this run may not have either; one at a time, it ends as gone.
            var missing = copying.FirstOrDefault(w => !w.HasCopy);
            if (missing != null)
                throw GoneMessages.Error(missing.Message.Id, "copy the message to the reply folder");
        }

        // The copy of this content, if stored; unloadable when the content cannot be loaded (so it was never stored either).
        private async Task<(uint? Uid, bool Unloadable)> FindAsync(StoredContent content, CancellationToken cancellationToken)
        {
            MimeKit.MimeMessage loaded = null;
            if (content.VerifyContent)
            {
                try { loaded = await content.Load().ConfigureAwait(false); }
                catch (FormatException) when (content.Fallback != null) { return (null, true); }
            }
            return (await _store.FindAsync(content.Identity, loaded, cancellationToken).ConfigureAwait(false), false);
        }

        // The content to append; content that cannot be loaded (a message MimeKit cannot read) gives way to its fallback.
        private static async Task<AppendItem> AppendItemOfAsync(WorkItem item)
        {
            while (true)
            {
                try
                {
                    var message = await item.Content.Load().ConfigureAwait(false);
                    return new AppendItem(message, item.Decision.Keywords.ToList(), item.Content.InternalDate);
                }
                catch (FormatException) when (item.Content.Fallback != null)
                {
                    UseFallback(item);
                }
            }
        }

        // Stores the content's fallback instead, with the decision that goes with it (an unreadable message is rejected).
        private static void UseFallback(WorkItem item)
        {
            item.Content = item.Content.Fallback;
            var decision = item.Content.Decision;
            if (decision == null || decision == item.Decision) return;
            item.Decision = decision;
            item.Result.Disposition = decision.Disposition;
            item.Result.Reason = decision.Reason;
            item.Result.ForwardedTo = decision.ForwardTo.ToArray();
        }

        // Steps 5-6, at least once: forward, then mark forwarded. SMTP sends one message per transaction.
        private async Task ForwardAsync(IReadOnlyList<WorkItem> items, CancellationToken cancellationToken)
        {
            foreach (var item in items.Where(w => !w.ForwardSettled))
            {
                if ((item.Message.State & SourceState.Forwarded) != 0)
                {
                    item.Result.Actions.Add("Already forwarded by an earlier run");
                }
                else
                {
                    if (_forwarder == null)
                        throw new ReplyAdminException(ErrorIds.SmtpRelayNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                            $"List(s) {string.Join(", ", item.Result.Lists)} forward replies, but no SMTP relay is configured.", string.Join(", ", item.Result.Lists),
                            "Configure the relay with Set-ReplySmtpRelay; the message stays at the source until then.");
                    // The message as the forward mode makes it (SenderAuthentication/ForwardComposer); a too-large reply's notice in its place.
                    var forward = item.Decision.StoresNotice
                        ? SenderAuthentication.ForwardComposer.ComposeNotice(await item.Content.Load().ConfigureAwait(false), item.Forward?.RelayAddress, item.Decision.Lists.FirstOrDefault()?.Name)
                        : SenderAuthentication.ForwardComposer.Compose(await item.Body.LoadAsync().ConfigureAwait(false), item.Forward);
                    await _forwarder.ForwardAsync(forward, item.Decision.ForwardTo, cancellationToken,
                        item.Forward?.Verification?.ToMethodResults()).ConfigureAwait(false);
                    item.Result.Actions.Add(item.Decision.StoresNotice ? "Notice forwarded to " + string.Join(", ", item.Decision.ForwardTo)
                        : SenderAuthentication.ForwardPlan.Describe(item.Forward, item.Decision.ForwardTo));
                    await _source.SetStateAsync(new[] { item.Message }, SourceState.Forwarded, cancellationToken).ConfigureAwait(false);
                }
                item.ForwardSettled = true;
                item.Body.Dispose();
            }
        }

        // Step 7: one move for the set; whichever messages the source moved are done, also when the move failed part-way.
        private async Task AcknowledgeAsync(IReadOnlyList<WorkItem> items, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            var pending = items.Where(w => !w.Done).ToList();
            if (pending.Count == 0) return;
            // The journal line first: a run killed between the move and its result still leaves a line for each moved message.
            if (_journal != null)
                foreach (var item in pending) _journal.WritePending(item.Result, destination);
            try
            {
                await _source.MoveAsync(pending.Select(w => w.Message).ToList(), destination, reason, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var item in pending.Where(w => w.Message.AcknowledgedTo != null))
                {
                    item.Result.AcknowledgedTo = item.Message.AcknowledgedTo;
                    item.Result.Actions.Add("Moved to " + item.Result.AcknowledgedTo);
                    item.Done = true;
                }
                foreach (var item in pending.Where(w => w.Message.Gone && w.Message.AcknowledgedTo == null))
                    GoneMessages.Mark(item.Result, "it was no longer there when this run moved it to " + destination);
            }
        }
    }
}
