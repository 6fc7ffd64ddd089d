using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Leases
{
    /// <summary>
    /// The source seen through a lease: every acknowledgement (MOVE) first checks that this host still holds the lease,
    /// so a host that stalled past it acknowledges nothing more. Everything else passes through.
    /// </summary>
    internal sealed class FencedReplySource : IReplySource, IBatchFetchSource
    {
        private readonly IReplySource _inner;
        private readonly IWorkLease _lease;

        public FencedReplySource(IReplySource inner, IWorkLease lease)
        {
            _inner = inner;
            _lease = lease;
        }

        public string Description => _inner.Description;
        public Task OpenAsync(CancellationToken cancellationToken) => _inner.OpenAsync(cancellationToken);
        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken) => _inner.ListAsync(cancellationToken);
        public Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken) => _inner.LoadHeadersAsync(batch, cancellationToken);
        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken) => _inner.OpenMessageAsync(message, cancellationToken);
        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) => _inner.OpenMessageStartAsync(message, length, cancellationToken);

        // Reading changes nothing: not fenced. A source that cannot fetch a batch leaves every message to OpenMessageAsync.
        public Task<IReadOnlyList<Stream>> OpenMessagesAsync(IReadOnlyList<SourceMessage> messages, CancellationToken cancellationToken) =>
            _inner is IBatchFetchSource batch ? batch.OpenMessagesAsync(messages, cancellationToken) : Task.FromResult<IReadOnlyList<Stream>>(new Stream[messages.Count]);
        public Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken) => _inner.SetStateAsync(messages, state, cancellationToken);
        public Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken) => _inner.RecordAttemptAsync(message, cancellationToken);

        public async Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return;
            await _lease.CheckAsync(cancellationToken).ConfigureAwait(false);
            await _inner.MoveAsync(messages, destination, reason, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() { } // the run that created the inner source disposes it
    }

    /// <summary>
    /// The reply folder seen through a lease: every MULTIAPPEND first checks that this host still holds it, and the protocol
    /// confirms it again afterwards (<see cref="ConfirmLeaseAsync"/>), because a host stalled mid-APPEND completes it on resuming.
    /// </summary>
    internal sealed class FencedReplyStore : ILeasedReplyStore
    {
        private readonly IReplyStore _inner;
        private readonly IWorkLease _lease;

        public FencedReplyStore(IReplyStore inner, IWorkLease lease)
        {
            _inner = inner;
            _lease = lease;
        }

        public string Description => _inner.Description;
        public long? ServerAppendLimit => _inner.ServerAppendLimit;
        public Task OpenAsync(CancellationToken cancellationToken) => _inner.OpenAsync(cancellationToken);
        public Task<uint?> FindAsync(string messageId, MimeMessage content, CancellationToken cancellationToken) => _inner.FindAsync(messageId, content, cancellationToken);

        public async Task<IReadOnlyList<uint?>> AppendAsync(IReadOnlyList<AppendItem> items, CancellationToken cancellationToken)
        {
            if (items.Count == 0) return new uint?[0];
            await _lease.CheckAsync(cancellationToken).ConfigureAwait(false);
            return await _inner.AppendAsync(items, cancellationToken).ConfigureAwait(false);
        }

        public Task ConfirmLeaseAsync(CancellationToken cancellationToken) => _lease.CheckAsync(cancellationToken);

        // Not fenced: it is how a host that lost the lease during its APPEND takes back the copies it stored twice.
        public Task<uint?> RemoveIfStoredEarlierAsync(uint uid, string messageId, MimeMessage content, CancellationToken cancellationToken) =>
            _inner.RemoveIfStoredEarlierAsync(uid, messageId, content, cancellationToken);

        public void Dispose() { } // the run that created the inner store disposes it
    }

    /// <summary>The server-side copy seen through the run's lease: every copy first checks that this host still holds it.</summary>
    internal sealed class FencedServerCopy : IServerSideCopy
    {
        private readonly IServerSideCopy _inner;
        private readonly IWorkLease _lease;

        public FencedServerCopy(IServerSideCopy inner, IWorkLease lease)
        {
            _inner = inner;
            _lease = lease;
        }

        public async Task<IReadOnlyList<uint?>> CopyAsync(IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return new uint?[0];
            await _lease.CheckAsync(cancellationToken).ConfigureAwait(false);
            return await _inner.CopyAsync(messages, keywords, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The leases of configured sources: an IMAP source's folder (or a shard of it) is the unit of work; file sources have none.</summary>
    public static class WorkLeases
    {
        /// <summary>The lease of one unit (<paramref name="folder"/>: the source folder or a shard of it) for this run; null when the source kind needs none (file sources are local).</summary>
        internal static async Task<IWorkLease> AcquireAsync(Configuration.ReplyAdminConfiguration configuration, string configPath, Sources.SourceContext context,
            string folder, IProcessingObserver observer, CancellationToken cancellationToken)
        {
            var source = LeasedSource.Of(configuration, configPath, context);
            if (source == null) return null;
            return await ImapLease.AcquireAsync(source.Endpoint, source.Credential, folder ?? source.Settings.Folder, source.Options, observer, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Reads who holds the configured source's lease, changing nothing; null for a source kind without leases.</summary>
        /// <exception cref="ReplyAdminException">The server cannot be reached (<see cref="ErrorIds.LeaseUnavailable"/>), or the coordination settings are invalid.</exception>
        public static async Task<LeaseStatus> ReadAsync(Configuration.ReplyAdminConfiguration configuration, string configPath, Sources.SourceContext context, CancellationToken cancellationToken)
        {
            var all = await ReadAllAsync(configuration, configPath, context, cancellationToken).ConfigureAwait(false);
            return all?.FirstOrDefault();
        }

        /// <summary>
        /// Reads who holds each unit of the configured source (the source folder, then its shards), changing nothing;
        /// null for a source kind without leases.
        /// </summary>
        /// <exception cref="ReplyAdminException">The server cannot be reached (<see cref="ErrorIds.LeaseUnavailable"/>), or the coordination settings are invalid.</exception>
        public static async Task<IReadOnlyList<LeaseStatus>> ReadAllAsync(Configuration.ReplyAdminConfiguration configuration, string configPath, Sources.SourceContext context, CancellationToken cancellationToken)
        {
            var source = LeasedSource.Of(configuration, configPath, context);
            if (source == null) return null;
            return await ImapLease.ReadAllAsync(source.Endpoint, source.Credential, ShardRule.Units(source.Settings.Folder, source.Options.Shards),
                source.Options.TimeToLive, cancellationToken).ConfigureAwait(false);
        }

        // What taking and reading a lease both need of the configured source; null for a source kind without leases.
        private sealed class LeasedSource
        {
            public Configuration.InboundSourceSettings Settings;
            public LeaseOptions Options;
            public Imap.ImapEndpoint Endpoint;
            public System.Net.NetworkCredential Credential;

            public static LeasedSource Of(Configuration.ReplyAdminConfiguration configuration, string configPath, Sources.SourceContext context)
            {
                var settings = configuration.Source;
                if (settings == null || settings.Kind != Configuration.SourceKind.Imap) return null;
                var options = LeaseOptions.From(configuration.Coordination, configPath);
                var endpoint = Imap.ImapEndpoint.From(settings);
                endpoint.Timeout = context.Timeout;
                return new LeasedSource { Settings = settings, Options = options, Endpoint = endpoint, Credential = context.Resolve(settings, "source.credentialReference") };
            }
        }
    }
}

namespace ReplyAdmin.Engine.Leases
{
    /// <summary>How a run meets the lease: take it (or learn that another host has it), and fence the adapters with it.</summary>
    internal static class LeaseGate
    {
        /// <summary>Stands for "another host holds the lease": the run returns <see cref="Summary"/> and does nothing.</summary>
        internal sealed class Elsewhere : IWorkLease
        {
            public Elsewhere(ProcessingSummary summary) => Summary = summary;
            public ProcessingSummary Summary { get; }
            public LeaseStatus Status => Summary.Lease;
            public Task CheckAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("Not held.");
            public void Dispose() { }
        }

        /// <summary>
        /// This run's lease of <paramref name="folder"/> (null: the source folder); an <see cref="Elsewhere"/> (after a warning,
        /// or a verbose line for a shard) when another host holds it; null when the source needs none.
        /// </summary>
        public static async Task<IWorkLease> TakeAsync(Configuration.ReplyAdminConfiguration configuration, string configPath, Sources.SourceContext context,
            string sourceDescription, IProcessingObserver observer, CancellationToken cancellationToken, string folder = null, bool quiet = false)
        {
            try
            {
                return await WorkLeases.AcquireAsync(configuration, configPath, context, folder, observer, cancellationToken).ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.ErrorId == ErrorIds.LeaseHeld)
            {
                // Not an error: a standby host finds the work in hand (with shards, that is the normal case: say it quietly).
                if (quiet) observer.Verbose(e.Message);
                else observer.Warning(e.Message);
                var now = DateTimeOffset.UtcNow;
                return new Elsewhere(new ProcessingSummary { Source = sourceDescription, Started = now, Lease = e.Target as LeaseStatus, LeaseHeldElsewhere = true });
            }
        }

        public static IReplySource Fence(IReplySource source, IWorkLease lease) => lease == null ? source : new FencedReplySource(source, lease);

        public static IReplyStore Fence(IReplyStore store, IWorkLease lease) => lease == null ? store : new FencedReplyStore(store, lease);

        /// <summary>The server-side copy (null for none) seen through <paramref name="lease"/>, like the APPEND it replaces.</summary>
        public static IServerSideCopy Fence(IServerSideCopy copy, IWorkLease lease) => copy == null || lease == null ? copy : new FencedServerCopy(copy, lease);
    }
}
