using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Leases
{
    /// <summary>
    /// A lease kept as mailboxes on the source's IMAP server, with nothing beyond IMAP4rev1 and UIDPLUS, because CREATE and
    /// RENAME of one mailbox name are exclusive on every server (per-message MOVE and CONDSTORE are not: measured on Dovecot
    /// 2.3). The lease of a unit is the mailbox <c>ReplyAdmin-Lease/&lt;unit&gt;/&lt;epoch&gt;</c> with the highest epoch:
    /// <list type="number">
    /// <item>Taking: CREATE a bid mailbox, APPEND the holder record (host, instance), RENAME it to epoch+1. The RENAME is
    /// the exclusive step: of two hosts only one gets the name. It is tried only when the current epoch is released, has
    /// had no heartbeat for the time to live, or was left by a dead run of this very configuration.</item>
    /// <item>Heartbeat: every third of the time to live, APPEND a small message to the own epoch mailbox; its INTERNALDATE
    /// (server time) is what others read. The new holder deletes older epochs, so a stalled holder's next heartbeat fails.</item>
    /// <item>Fencing (<see cref="CheckAsync"/>), before every MULTIAPPEND and acknowledgement: the own heartbeat must be
    /// younger than half the time to live (renewed on the spot otherwise) and the own epoch still the highest (LIST).</item>
    /// <item>Release: APPEND a "released" record; the next host takes epoch+1 without waiting.</item>
    /// </list>
    /// </summary>
    internal sealed class ImapLease : IWorkLease
    {
        internal const string Root = "ReplyAdmin-Lease";
        private const string HostHeader = "X-ReplyAdmin-Lease-Host";
        private const string InstanceHeader = "X-ReplyAdmin-Lease-Instance";
        private const string KindHeader = "X-ReplyAdmin-Lease-Kind";

        private readonly ImapSession _session;
        private readonly LeaseOptions _options;
        private readonly IProcessingObserver _observer;
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly string _unitName;
        private long _lastBeat; // Stopwatch timestamp taken before the last heartbeat that succeeded
        private int _beats;
        private bool _lost;
        private Task _heartbeat;

        private ImapLease(ImapSession session, LeaseOptions options, IProcessingObserver observer, string unit, string unitName)
        {
            _session = session;
            _options = options;
            _observer = observer;
            _unitName = unitName;
            Status = new LeaseStatus { Unit = unit, TimeToLive = options.TimeToLive, Holder = options.HostId };
        }

        public LeaseStatus Status { get; }

        /// <summary>The mailbox name of a unit's leases: readable, and unique by a hash of the folder path.</summary>
        internal static string UnitName(string folder)
        {
            var readable = new string(folder.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
            if (readable.Length > 40) readable = readable.Substring(0, 40);
            return readable + "-" + LeaseOptions.Hash(folder);
        }

        /// <summary>Takes the lease of <paramref name="folder"/> for this host.</summary>
        /// <exception cref="ReplyAdminException"><see cref="ErrorIds.LeaseHeld"/> (scope Run, its Target the holder's <see cref="LeaseStatus"/>): another host holds it.</exception>
        public static async Task<ImapLease> AcquireAsync(ImapEndpoint endpoint, NetworkCredential credential, string folder, LeaseOptions options,
            IProcessingObserver observer, CancellationToken cancellationToken)
        {
            var session = new ImapSession(endpoint, credential);
            var lease = new ImapLease(session, options, observer, folder, UnitName(folder));
            try
            {
                await lease.TakeAsync(cancellationToken).ConfigureAwait(false);
                lease._heartbeat = Task.Run(() => lease.HeartbeatLoopAsync(lease._stop.Token));
                return lease;
            }
            catch
            {
                await Processing.SocketThreads.LeaveAsync();
                session.Dispose();
                throw;
            }
        }

        /// <summary>Reads who holds the lease of <paramref name="folder"/>, changing nothing.</summary>
        public static async Task<LeaseStatus> ReadAsync(ImapEndpoint endpoint, NetworkCredential credential, string folder, TimeSpan timeToLive, CancellationToken cancellationToken)
        {
            using (var session = new ImapSession(endpoint, credential))
                return await ReadAsync(session, folder, timeToLive, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Reads who holds the lease of each of <paramref name="folders"/> (a source and its shards) over one connection, changing nothing.</summary>
        public static async Task<IReadOnlyList<LeaseStatus>> ReadAllAsync(ImapEndpoint endpoint, NetworkCredential credential, IReadOnlyList<string> folders, TimeSpan timeToLive, CancellationToken cancellationToken)
        {
            var statuses = new List<LeaseStatus>(folders.Count);
            using (var session = new ImapSession(endpoint, credential))
                foreach (var folder in folders)
                    statuses.Add(await ReadAsync(session, folder, timeToLive, cancellationToken).ConfigureAwait(false));
            return statuses;
        }

        private static async Task<LeaseStatus> ReadAsync(ImapSession session, string folder, TimeSpan timeToLive, CancellationToken cancellationToken)
        {
            var reader = new ImapLease(session, new LeaseOptions { TimeToLive = timeToLive }, null, folder, UnitName(folder));
            var unit = await reader.UnitFolderAsync(create: false, cancellationToken).ConfigureAwait(false);
            var status = new LeaseStatus { Unit = folder, TimeToLive = timeToLive, LeaseMailbox = $"{Root}/{reader._unitName}" };
            if (unit == null) return status;
            for (var attempt = 0; ; attempt++)
            {
                var epochs = await reader.EpochsAsync(unit, cancellationToken).ConfigureAwait(false);
                if (epochs.Count == 0) return status;
                var top = epochs.Keys.Max();
                var record = await reader.ReadEpochAsync(epochs[top], top, cancellationToken).ConfigureAwait(false);
                if (!record.Unreadable || attempt >= 2) return record.ToStatus();
                unit = await reader.UnitFolderAsync(create: false, cancellationToken).ConfigureAwait(false); // taken over meanwhile: read the new top
                if (unit == null) return status;
            }
        }

        private async Task TakeAsync(CancellationToken cancellationToken)
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                // Looked up on every attempt: a failed read may have cost the connection, and folders belong to one.
                var unit = await UnitFolderAsync(create: true, cancellationToken).ConfigureAwait(false);
                var epochs = await EpochsAsync(unit, cancellationToken).ConfigureAwait(false);
                var top = epochs.Count == 0 ? 0 : epochs.Keys.Max();
                if (top > 0)
                {
                    var holder = await ReadEpochAsync(epochs[top], top, cancellationToken).ConfigureAwait(false);
                    if (holder.Unreadable)
                        continue; // deleted while read (a takeover), or the connection broke: list again, never bid blind
                    var ownDeadRun = holder.Holder == _options.HostId && holder.InstanceOf == _options.Instance;
                    if (!holder.Released && !holder.Expired && !ownDeadRun)
                        throw Held(holder);
                    _observer?.Verbose(holder.Released ? $"The lease of {Status.Unit} was released by {holder.Holder} (epoch {top}); taking it."
                        : ownDeadRun ? $"The lease of {Status.Unit} (epoch {top}) was left by an earlier run of this configuration; taking it."
                        : $"The lease of {Status.Unit} held by {holder.Holder} (epoch {top}) had no heartbeat since {holder.LastHeartbeat:u}; taking it over.");
                }
                if (await TryRenameBidAsync(unit, top + 1, cancellationToken).ConfigureAwait(false))
                {
                    Status.Epoch = top + 1;
                    Status.LeaseMailbox = $"{Root}/{_unitName}/{EpochName(top + 1)}";
                    Status.Since = DateTimeOffset.UtcNow;
                    Status.LastHeartbeat = Status.Since;
                    _lastBeat = Stopwatch.GetTimestamp();
                    await CleanUpAsync(unit, cancellationToken).ConfigureAwait(false);
                    _observer?.Verbose($"Holding the lease of {Status.Unit} as {_options.HostId}, epoch {Status.Epoch} (time to live {_options.TimeToLive.TotalSeconds:0} s).");
                    return;
                }
                // Another host got epoch top+1 first: read again who holds it.
            }
            throw new ReplyAdminException(ErrorIds.LeaseUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                $"The lease of {Status.Unit} changed hands five times while this host tried to take it.", Status.Unit,
                "Nothing to do: another host works on the source; the next run tries again.", scope: FailureScope.Run, transient: true);
        }

        private ReplyAdminException Held(HolderRecord holder) =>
            new ReplyAdminException(ErrorIds.LeaseHeld, ReplyAdminErrorKind.ResourceUnavailable,
                $"Host {holder.Holder} holds the lease of {Status.Unit} (epoch {holder.Epoch}, since {holder.Since:u}, last heartbeat {holder.LastHeartbeat:u}); this run does nothing.",
                holder.ToStatus(), $"Nothing to do: {holder.Holder} handles the waiting messages. If it died, another host takes over {_options.TimeToLive.TotalSeconds:0} s after its last heartbeat.",
                scope: FailureScope.Run, transient: true);

        public async Task CheckAsync(CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_lost) throw Lost("this host lost it earlier in the run");
                if (Stopwatch.GetTimestamp() - _lastBeat > HalfLife)
                {
                    await RenewAsync(cancellationToken).ConfigureAwait(false); // a late timer, or a host that stalled
                }
                else
                {
                    try
                    {
                        await VerifyHighestAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (ReplyAdminException e) when (e.ErrorId != ErrorIds.LeaseLost)
                    {
                        // The server cannot be asked just now, but the last heartbeat is younger than half the time to live:
                        // no other host may take the lease before it is a whole time to live old, so acting is still safe.
                        // The step itself meets the same server and fails (or not) on its own terms.
                        _observer?.Verbose($"Could not confirm the lease of {Status.Unit} ({e.Message}); its last heartbeat is recent enough to go on.");
                    }
                }
            }
            catch (ReplyAdminException e) when (e.ErrorId != ErrorIds.LeaseLost)
            {
                _lost = true;
                throw Lost($"it could not be confirmed ({e.Message})", e);
            }
            finally
            {
                _gate.Release();
            }
        }

        private long HalfLife => (long)(_options.TimeToLive.TotalSeconds / 2 * Stopwatch.Frequency);

        private ReplyAdminException Lost(string why, Exception inner = null)
        {
            _lost = true;
            return new ReplyAdminException(ErrorIds.LeaseLost, ReplyAdminErrorKind.ResourceUnavailable,
                $"This host ({_options.HostId}) no longer holds the lease of {Status.Unit} (epoch {Status.Epoch}): {why}. The run stops before changing anything more.",
                Status, "Nothing to do: the host holding the lease now finishes what this run left; messages stay at the source until then.", inner,
                FailureScope.Run, transient: true);
        }

        private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
        {
            var interval = TimeSpan.FromTicks(_options.TimeToLive.Ticks / 3);
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                    await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        if (_lost) return;
                        await RenewAsync(cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (ReplyAdminException e) when (e.ErrorId == ErrorIds.LeaseLost)
                {
                    _observer?.Warning(e.Message);
                    return;
                }
                catch (Exception e)
                {
                    // The next heartbeat or fencing check tries again; past half the time to live fencing stops the run.
                    _observer?.Verbose($"A heartbeat of the lease of {Status.Unit} failed: {e.Message}");
                }
            }
        }

        // Caller holds _gate.
        private async Task RenewAsync(CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var client = await _session.ClientAsync(cancellationToken).ConfigureAwait(false);
            var own = await FolderAsync(client, $"{Root}/{_unitName}/{EpochName(Status.Epoch)}", cancellationToken).ConfigureAwait(false);
            if (own == null) throw Lost("its mailbox was removed by the host that took it over");
            try
            {
                await Guard(() => own.AppendAsync(new AppendRequest(Record("heartbeat"), MessageFlags.Seen), cancellationToken), "renew the lease").ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.InnerException is ImapCommandException)
            {
                throw Lost("its mailbox was removed by the host that took it over", e);
            }
            await VerifyHighestAsync(cancellationToken).ConfigureAwait(false);
            _lastBeat = started;
            Status.LastHeartbeat = DateTimeOffset.UtcNow;
            if (++_beats % 20 == 0)
                await TrimAsync(own, cancellationToken).ConfigureAwait(false);
        }

        private async Task VerifyHighestAsync(CancellationToken cancellationToken)
        {
            var unit = await UnitFolderAsync(create: false, cancellationToken).ConfigureAwait(false);
            var epochs = unit == null ? new Dictionary<long, IMailFolder>() : await EpochsAsync(unit, cancellationToken).ConfigureAwait(false);
            var top = epochs.Count == 0 ? 0 : epochs.Keys.Max();
            if (top != Status.Epoch || !epochs.ContainsKey(Status.Epoch))
                throw Lost(top > Status.Epoch ? $"another host took it over (epoch {top})" : "its mailbox is gone");
        }

        // Keeps the holder record and the last heartbeat (UID EXPUNGE, UIDPLUS), so a long watch leaves no pile of heartbeats.
        private async Task TrimAsync(IMailFolder own, CancellationToken cancellationToken)
        {
            try
            {
                await Guard(() => own.OpenAsync(FolderAccess.ReadWrite, cancellationToken), "trim the lease").ConfigureAwait(false);
                var uids = await Guard(() => own.SearchAsync(SearchQuery.All, cancellationToken), "trim the lease").ConfigureAwait(false);
                var old = uids.OrderBy(u => u.Id).Skip(1).Reverse().Skip(1).ToList();
                if (old.Count > 0)
                {
                    await Guard(() => own.AddFlagsAsync(old, MessageFlags.Deleted, true, cancellationToken), "trim the lease").ConfigureAwait(false);
                    await Guard(() => own.ExpungeAsync(old, cancellationToken), "trim the lease").ConfigureAwait(false);
                }
                await Guard(() => own.CloseAsync(false, cancellationToken), "trim the lease").ConfigureAwait(false);
            }
            catch (ReplyAdminException e)
            {
                _observer?.Verbose($"Trimming the lease mailbox failed: {e.Message}");
            }
        }

        private async Task<bool> TryRenameBidAsync(IMailFolder unit, long epoch, CancellationToken cancellationToken)
        {
            var bidName = "bid-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            IMailFolder bid;
            try
            {
                bid = await unit.CreateAsync(bidName, true, cancellationToken).ConfigureAwait(false);
                // MailKit answers null when the LIST after its CREATE no longer finds the mailbox: the winner of the epoch
                // cleaned up stray bids between the two commands (seen in CI with two hosts started together).
                if (bid == null) throw new FolderNotFoundException(bidName);
                await bid.AppendAsync(new AppendRequest(Record("holder"), MessageFlags.Seen), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ImapCommandException || e is FolderNotFoundException)
            {
                // The winner of this epoch cleans up stray bids, ours included: read again who holds it.
                _observer?.Verbose($"A bid for the lease of {Status.Unit} failed ({e.Message}); looking again.");
                return false;
            }
            try
            {
                await bid.RenameAsync(unit, EpochName(epoch), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ImapCommandException)
            {
                // The name exists: another host won this epoch.
                try { await bid.DeleteAsync(cancellationToken).ConfigureAwait(false); } catch (ImapCommandException) { }
                return false;
            }
        }

        // Older epochs and stray bids (of hosts killed while bidding, or that lost): a stalled holder's heartbeat then fails.
        private async Task CleanUpAsync(IMailFolder unit, CancellationToken cancellationToken)
        {
            try
            {
                var children = await Guard(() => unit.GetSubfoldersAsync(false, cancellationToken), "clean up the lease").ConfigureAwait(false);
                foreach (var child in children)
                {
                    var isOld = long.TryParse(child.Name, out var epoch) && epoch < Status.Epoch;
                    if (isOld || child.Name.StartsWith("bid-", StringComparison.Ordinal))
                    {
                        try { await child.DeleteAsync(cancellationToken).ConfigureAwait(false); }
                        catch (ImapCommandException) { } // another host cleaned it first
                    }
                }
            }
            catch (ReplyAdminException e)
            {
                _observer?.Verbose($"Cleaning up old lease mailboxes failed: {e.Message}");
            }
        }

        private MimeMessage Record(string kind)
        {
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress("ReplyAdmin lease", "lease@replyadmin.invalid"));
            message.To.Add(new MailboxAddress("ReplyAdmin lease", "lease@replyadmin.invalid"));
            message.Subject = $"ReplyAdmin lease of {Status.Unit}: {kind} by {_options.HostId}";
            message.Date = DateTimeOffset.UtcNow;
            message.Headers.Add(HostHeader, _options.HostId);
            message.Headers.Add(InstanceHeader, _options.Instance);
            message.Headers.Add(KindHeader, kind);
            message.Body = new TextPart("plain") { Text = $"{kind} {_options.HostId} {DateTimeOffset.UtcNow:O}\r\n" };
            return message;
        }

        internal static string EpochName(long epoch) => epoch.ToString("0000000000", System.Globalization.CultureInfo.InvariantCulture);

        private async Task<Dictionary<long, IMailFolder>> EpochsAsync(IMailFolder unit, CancellationToken cancellationToken)
        {
            var children = await Guard(() => unit.GetSubfoldersAsync(false, cancellationToken), "list the lease").ConfigureAwait(false);
            var epochs = new Dictionary<long, IMailFolder>();
            foreach (var child in children)
                if (long.TryParse(child.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var epoch))
                    epochs[epoch] = child;
            return epochs;
        }

        private async Task<HolderRecord> ReadEpochAsync(IMailFolder folder, long epoch, CancellationToken cancellationToken)
        {
            var record = new HolderRecord { Epoch = epoch, Unit = Status.Unit, Mailbox = $"{Root}/{_unitName}/{EpochName(epoch)}", TimeToLive = _options.TimeToLive };
            try
            {
                await Guard(() => folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken), "read the lease").ConfigureAwait(false);
                if (folder.Count > 0)
                {
                    var indexes = folder.Count == 1 ? new[] { 0 } : new[] { 0, folder.Count - 1 };
                    var summaries = await Guard(() => folder.FetchAsync(indexes, new FetchRequest(MessageSummaryItems.InternalDate | MessageSummaryItems.Headers), cancellationToken), "read the lease").ConfigureAwait(false);
                    var ordered = summaries.Where(s => s.Headers != null).OrderBy(s => s.Index).ToList();
                    if (ordered.Count > 0)
                    {
                        record.Holder = ordered[0].Headers[HostHeader];
                        record.InstanceOf = ordered[0].Headers[InstanceHeader];
                        record.Since = ordered[0].InternalDate;
                        record.LastHeartbeat = ordered.Last().InternalDate;
                        record.Released = ordered.Last().Headers[KindHeader] == "released";
                    }
                }
                await Guard(() => folder.CloseAsync(false, cancellationToken), "read the lease").ConfigureAwait(false);
            }
            catch (ReplyAdminException)
            {
                // Deleted meanwhile by a host that took it over (Dovecot: "Mailbox was deleted under us"), or the
                // connection broke: unknown, so neither free nor held; the caller lists again.
                record.Unreadable = true;
                return record;
            }
            // An epoch with no record (its holder's bid was renamed but the record cannot be read) counts as expired.
            record.Expired = !record.Released && (record.LastHeartbeat == null || DateTimeOffset.UtcNow - record.LastHeartbeat.Value > _options.TimeToLive);
            return record;
        }

        private async Task<IMailFolder> UnitFolderAsync(bool create, CancellationToken cancellationToken)
        {
            var client = await _session.ClientAsync(cancellationToken).ConfigureAwait(false);
            var personal = client.GetFolder(client.PersonalNamespaces[0]);
            var root = await ChildAsync(personal, Root, create, cancellationToken).ConfigureAwait(false);
            return root == null ? null : await ChildAsync(root, _unitName, create, cancellationToken).ConfigureAwait(false);
        }

        private async Task<IMailFolder> FolderAsync(ImapClient client, string path, CancellationToken cancellationToken)
        {
            IMailFolder folder = client.GetFolder(client.PersonalNamespaces[0]);
            foreach (var level in path.Split('/'))
            {
                folder = await ChildAsync(folder, level, false, cancellationToken).ConfigureAwait(false);
                if (folder == null) return null;
            }
            return folder;
        }

        private async Task<IMailFolder> ChildAsync(IMailFolder parent, string name, bool create, CancellationToken cancellationToken)
        {
            try
            {
                return await Guard(() => parent.GetSubfolderAsync(name, cancellationToken), "find the lease").ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.InnerException is FolderNotFoundException)
            {
                if (!create) return null;
            }
            try
            {
                // A selectable mailbox, as the folders ReplyAdmin creates elsewhere: a "parent only" name is not kept by every server (Dovecot's maildir).
                // Null when the LIST after the CREATE no longer finds it: look it up, which says what is there now.
                return await parent.CreateAsync(name, true, cancellationToken).ConfigureAwait(false)
                    ?? await Guard(() => parent.GetSubfolderAsync(name, cancellationToken), "find the lease").ConfigureAwait(false);
            }
            catch (ImapCommandException)
            {
                // Created by another host at the same moment.
                return await Guard(() => parent.GetSubfolderAsync(name, cancellationToken), "find the lease").ConfigureAwait(false);
            }
        }

        // MailKit's failures as engine errors; the session reconnects on the next command after a lost connection.
        private async Task<T> Guard<T>(Func<Task<T>> command, string action)
        {
            try
            {
                return await command().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ImapCommandException || e is FolderNotFoundException || e is ImapProtocolException || e is IOException
                || e is ServiceNotConnectedException || e is TimeoutException)
            {
                throw new ReplyAdminException(ErrorIds.LeaseUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                    $"Could not {action} on {_session.Endpoint.Host}: {e.Message}", Status.Unit, "Check the connection to the source's server; the next run tries again.", e,
                    FailureScope.Run, transient: true);
            }
        }

        private Task Guard(Func<Task> command, string action) => Guard(async () => { await command().ConfigureAwait(false); return true; }, action);

        /// <summary>Stops the heartbeat and gives the lease back (a "released" record), unless it was lost.</summary>
        public void Dispose()
        {
            _stop.Cancel();
            try { _heartbeat?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
            if (!_lost && Status.Epoch > 0)
            {
                try
                {
                    using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                    {
                        var client = _session.ClientAsync(cts.Token).GetAwaiter().GetResult();
                        var own = FolderAsync(client, $"{Root}/{_unitName}/{EpochName(Status.Epoch)}", cts.Token).GetAwaiter().GetResult();
                        own?.Append(new AppendRequest(Record("released"), MessageFlags.Seen), cts.Token);
                    }
                }
                catch (Exception e) when (!(e is OutOfMemoryException))
                {
                    // Not released: another host takes it over after the time to live.
                    _observer?.Verbose($"Releasing the lease of {Status.Unit} failed: {e.Message}");
                }
            }
            _session.Dispose();
            _gate.Dispose();
            _stop.Dispose();
        }

        private sealed class HolderRecord
        {
            public string Unit, Mailbox, Holder, InstanceOf;
            public long Epoch;
            public DateTimeOffset? Since, LastHeartbeat;
            public bool Released, Expired, Unreadable;
            public TimeSpan TimeToLive;

            public LeaseStatus ToStatus() => new LeaseStatus
            {
                Unit = Unit, LeaseMailbox = Mailbox, Epoch = Epoch, Holder = Holder, Since = Since, LastHeartbeat = LastHeartbeat,
                Released = Released, Expired = Expired, TimeToLive = TimeToLive,
            };
        }
    }
}
