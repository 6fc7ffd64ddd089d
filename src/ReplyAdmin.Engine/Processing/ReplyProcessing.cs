using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Sources;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Smtp;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>What one run of <see cref="ReplyProcessing.RunAsync"/> works with.</summary>
    public sealed class ProcessingRequest
    {
        /// <summary>The loaded configuration.</summary>
        public ReplyAdminConfiguration Configuration { get; set; }

        /// <summary>The configuration file (the journal and run locks live beside it).</summary>
        public string ConfigPath { get; set; }

        /// <summary>Resolves the configured credential references.</summary>
        public CredentialResolver Credentials { get; set; } = new CredentialResolver();

        /// <summary>Overrides the reply mailbox's configured credential.</summary>
        public NetworkCredential ReplyMailboxCredential { get; set; }

        /// <summary>Overrides the IMAP source's configured credential.</summary>
        public NetworkCredential SourceCredential { get; set; }

        /// <summary>Message files to handle instead of the configured source (piped input).</summary>
        public IReadOnlyList<string> Files { get; set; }

        /// <summary>Run options.</summary>
        public ProcessingOptions Options { get; set; } = new ProcessingOptions();

        /// <summary>Journal directory; default <c>journal</c> beside the configuration file.</summary>
        public string JournalDirectory { get; set; }

        /// <summary>Time limit of every network operation.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>The classifier; default <see cref="ReplyClassifier"/>.</summary>
        public IReplyClassifier Classifier { get; set; }
    }

    /// <summary>Builds one processing run from the configuration and runs it: the single entry point for hosts (cmdlets, a service).</summary>
    public static class ReplyProcessing
    {
        /// <summary>Runs processing once.</summary>
        /// <exception cref="ReplyAdminException">The configuration is incomplete, another run holds the source, or a server cannot be reached.</exception>
        public static async Task<ProcessingSummary> RunAsync(ProcessingRequest request, IProcessingObserver observer, CancellationToken cancellationToken)
        {
            var configuration = request.Configuration;
            var mailbox = configuration.ReplyMailbox ?? throw new ReplyAdminException(ErrorIds.ReplyMailboxNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                "No reply mailbox is configured: replies have nowhere to go.", request.ConfigPath, "Configure it with Set-ReplyMailbox.");
            if (request.Files == null && configuration.Source == null)
                throw NoSource(request.ConfigPath);

            var whatIf = request.Options.WhatIf;
            var mailboxCredential = request.ReplyMailboxCredential ?? request.Credentials.Resolve(mailbox.UserName, mailbox.CredentialReference, "replyMailbox.credentialReference", mailbox.Authentication);
            var forwards = configuration.Lists.Any(l => l.Action == ReplyAction.ForwardAndStoreInImap);
            NetworkCredential relayCredential = null;
            if (forwards && configuration.SmtpRelay != null && !string.IsNullOrEmpty(configuration.SmtpRelay.UserName))
                relayCredential = request.Credentials.Resolve(configuration.SmtpRelay.UserName, configuration.SmtpRelay.CredentialReference, "smtpRelay.credentialReference", configuration.SmtpRelay.Authentication);
            // The signing key is read once, before anything is claimed: a bad key stops the run instead of each forward.
            var relaySigner = forwards ? RelaySigner.FromSettings(configuration.SmtpRelay, request.Credentials) : null;

            var options = request.Options;
            options.MaxMessageSize = mailbox.MaxMessageSize;
            var shards = Leases.LeaseOptions.From(configuration.Coordination, request.ConfigPath).Shards;
            if (shards > 0 && request.Files == null && configuration.Source.Kind == SourceKind.Imap)
                return await RunShardsAsync(request, mailbox, mailboxCredential, forwards, relayCredential, relaySigner, shards, observer, cancellationToken).ConfigureAwait(false);
            using (var source = request.Files != null ? new Files.PipedFileSource(request.Files)
                : SourceProviders.For(configuration.Source.Kind).Create(configuration.Source, SourceContextOf(request)))
            // -WhatIf changes nothing anywhere: no lock file, no journal, no folders.
            using (whatIf || request.Files != null ? null : RunLock.Acquire(request.ConfigPath, source.Description))
            {
                // Several hosts on one source: only the holder of its lease acts (see Leases/ImapLease.cs).
                var lease = whatIf || request.Files != null ? null : await Leases.LeaseGate.TakeAsync(configuration, request.ConfigPath, SourceContextOf(request), source.Description, observer, cancellationToken).ConfigureAwait(false);
                if (lease is Leases.LeaseGate.Elsewhere elsewhere)
                {
                    elsewhere.Summary.RunId = options.RunId;
                    return elsewhere.Summary;
                }
                using (lease)
                using (var store = new ImapReplyStore(mailbox, mailboxCredential, request.Timeout))
                using (var forwarder = CreateForwarder(request, forwards, relayCredential, relaySigner))
                using (var journal = whatIf ? null : new Journal(request.JournalDirectory ?? Journal.DefaultDirectory(request.ConfigPath)))
                {
                    var processor = CreateProcessor(request, source, lease, store, forwarder, journal, observer);
                    try
                    {
                        var summary = await processor.RunAsync(cancellationToken).ConfigureAwait(false);
                        summary.Lease = lease?.Status;
                        return summary;
                    }
                    finally
                    {
                        await SocketThreads.LeaveAsync(); // the usings close connections
                    }
                }
            }
        }

        // The relay as both ways of running use it: with its signer, so every forward is signed and sealed alike.
        private static SmtpForwarder CreateForwarder(ProcessingRequest request, bool forwards, NetworkCredential relayCredential, RelaySigner relaySigner) =>
            forwards && request.Configuration.SmtpRelay != null ? new SmtpForwarder(request.Configuration.SmtpRelay, relayCredential, request.Timeout, relaySigner) : null;

        // The processor of one source (the whole source, or one shard) under its lease: the one place that wires the
        // configuration into the engine, so that a run over shards checks senders, guards loops by the relay's identity and
        // copies on the server as a run over the whole source does.
        private static ReplyProcessor CreateProcessor(ProcessingRequest request, IReplySource source, Leases.IWorkLease lease, ImapReplyStore store,
            IReplyForwarder forwarder, Journal journal, IProcessingObserver observer)
        {
            var configuration = request.Configuration;
            var scanner = configuration.Scanner;
            var scanners = scanner != null && scanner.Enabled ? scanner.CreateScanners() : null;
            return new ReplyProcessor(configuration.Lists, request.Classifier ?? new ReplyClassifier(RelayIdentity.Of(configuration.SmtpRelay)),
                Leases.LeaseGate.Fence(source, lease), Leases.LeaseGate.Fence(store, lease), forwarder, observer, request.Options, journal, scanners, scanner?.TrustedRelays,
                configuration.SenderAuthentication ?? new SenderAuthentication.SenderAuthenticationSettings(), configuration.SmtpRelay?.EnvelopeSender,
                // The reply folder in the inbound mailbox's own account, or shared with it: unchanged replies are copied on
                // the server, fenced by the lease like the APPEND it replaces.
                serverCopy: Leases.LeaseGate.Fence((source as ImapReplySource)?.ServerCopyInto(configuration.ReplyMailbox, store.UidValidityAsync, observer.Verbose), lease));
        }

        /// <summary>
        /// A run over a sharded source: every unit (the source folder and its shards) in this host's rotation; a unit whose
        /// lease another host holds is skipped, every other is taken, processed and released. The reply folder, relay and
        /// journal are shared by the units; each unit's source and adapters are fenced by that unit's lease.
        /// </summary>
        private static async Task<ProcessingSummary> RunShardsAsync(ProcessingRequest request, ReplyMailboxSettings mailbox, NetworkCredential mailboxCredential,
            bool forwards, NetworkCredential relayCredential, RelaySigner relaySigner, int shards, IProcessingObserver observer, CancellationToken cancellationToken)
        {
            var configuration = request.Configuration;
            var options = request.Options;
            var provider = SourceProviders.For(configuration.Source.Kind);
            var leaseOptions = Leases.LeaseOptions.From(configuration.Coordination, request.ConfigPath);
            var units = Leases.ShardRule.Rotation(Leases.ShardRule.Units(configuration.Source.Folder, shards), leaseOptions.HostId);
            var baseDescription = provider.Describe(configuration.Source);
            var whatIf = options.WhatIf;
            var total = new ProcessingSummary { RunId = options.RunId, Source = baseDescription, ReplyFolder = mailbox.Folder, Started = DateTimeOffset.UtcNow, Units = new List<Leases.LeaseStatus>(), WhatIf = whatIf };
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var held = 0;
            var missingCount = 0;
            ReplyAdminException missing = null;
            // -WhatIf reads every unit and changes nothing: no lock file, no journal, no lease.
            using (whatIf ? null : RunLock.Acquire(request.ConfigPath, baseDescription))
            using (var store = new ImapReplyStore(mailbox, mailboxCredential, request.Timeout))
            using (var forwarder = CreateForwarder(request, forwards, relayCredential, relaySigner))
            using (var journal = whatIf ? null : new Journal(request.JournalDirectory ?? Journal.DefaultDirectory(request.ConfigPath)))
            try
            {
                foreach (var unit in units)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using (var source = provider.Create(configuration.Source.WithFolder(unit), SourceContextOf(request)))
                    {
                        var lease = whatIf ? null : await Leases.LeaseGate.TakeAsync(configuration, request.ConfigPath, SourceContextOf(request), source.Description, observer, cancellationToken, unit, quiet: true).ConfigureAwait(false);
                        if (lease is Leases.LeaseGate.Elsewhere elsewhere)
                        {
                            total.Units.Add(elsewhere.Status);
                            held++;
                            continue;
                        }
                        using (lease)
                        try
                        {
                            var processor = CreateProcessor(request, source, lease, store, forwarder, journal, observer);
                            ProcessingSummary part;
                            try
                            {
                                part = await processor.RunAsync(cancellationToken).ConfigureAwait(false);
                            }
                            catch (ReplyAdminException e) when (e.ErrorId == ErrorIds.ImapFolderNotFound)
                            {
                                // The delivery side has not filed anything into this unit yet (a Sieve script that places every
                                // reply in a shard may never create the source folder itself). Only when no unit exists at all
                                // is the configuration wrong.
                                observer.Verbose($"The folder {unit} does not exist yet; nothing to do there.");
                                missing = missing ?? e;
                                missingCount++;
                                if (lease != null) total.Units.Add(lease.Status);
                                continue;
                            }
                            if (lease != null) total.Units.Add(lease.Status);
                            total.Add(part);
                        }
                        finally
                        {
                            await SocketThreads.LeaveAsync(); // the usings close the unit's connections
                        }
                    }
                }
            }
            finally
            {
                await SocketThreads.LeaveAsync(); // the usings close connections
            }
            if (missingCount == units.Count)
                throw missing;
            total.Duration = watch.Elapsed;
            total.Lease = total.Units.FirstOrDefault();
            total.LeaseHeldElsewhere = !whatIf && held == units.Count;
            if (total.LeaseHeldElsewhere)
                observer.Warning($"Other hosts hold every unit of {baseDescription} ({string.Join(", ", total.Units.Select(u => $"{u.Unit}: {u.Holder}"))}); this run did nothing.");
            return total;
        }

        /// <summary>
        /// Keeps processing until cancelled: a run, then a wait for new replies at the source (IMAP IDLE; a look every few
        /// seconds for file sources) of at most <paramref name="interval"/>, then the next run. A failed run (a server down)
        /// is reported as a warning and retried after a pause that doubles up to five minutes.
        /// </summary>
        /// <param name="nextRequest">Makes each run's request; called before every run, so configuration changes take effect while watching.</param>
        /// <param name="observer">Receives each run's output and the warnings of failed runs.</param>
        /// <param name="completed">Receives the summary of each run.</param>
        /// <param name="interval">The longest wait between two runs.</param>
        /// <param name="cancellationToken">Ends the watch.</param>
        public static async Task WatchAsync(Func<ProcessingRequest> nextRequest, IProcessingObserver observer, Action<ProcessingSummary> completed,
            TimeSpan interval, CancellationToken cancellationToken)
        {
            var pause = TimeSpan.FromSeconds(5);
            observer.Verbose($"Watching for replies; runs at least every {interval}. Press Ctrl+C to stop.");
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var request = nextRequest();
                    var summary = await RunAsync(request, observer, cancellationToken).ConfigureAwait(false);
                    completed(summary);
                    pause = TimeSpan.FromSeconds(5);
                    if (summary.LeaseHeldElsewhere)
                    {
                        // A standby host: messages wait, but another host handles them; look again at a third of the time to live.
                        await Task.Delay(TimeSpan.FromTicks(summary.Lease.TimeToLive.Ticks / 3), cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    var settings = request.Configuration.Source ?? throw NoSource(request.ConfigPath);
                    if (summary.Units != null && summary.Lease != null)
                    {
                        // Shards: replies arrive in folders IDLE on the source folder does not see, and units held by other
                        // hosts must be looked at again before their time to live ends.
                        var wait = TimeSpan.FromTicks(Math.Min(interval.Ticks, summary.Lease.TimeToLive.Ticks / 3));
                        observer.Verbose($"Looking at the shards of {SourceProviders.For(settings.Kind).Describe(settings)} again in {wait.TotalSeconds:0} s.");
                        await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    observer.Verbose($"Waiting for new replies at {SourceProviders.For(settings.Kind).Describe(settings)} (at most {interval}).");
                    await SourceProviders.For(settings.Kind).WaitForArrivalAsync(settings, SourceContextOf(request), interval, cancellationToken).ConfigureAwait(false);
                }
                catch (ReplyAdminException e)
                {
                    observer.Warning($"{e.ErrorId}: {e.Message} Next attempt in {pause.TotalSeconds:0} s.");
                    try { await Task.Delay(pause, cancellationToken).ConfigureAwait(false); }
                    catch (OperationCanceledException) { break; }
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMinutes(5).Ticks));
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
            observer.Verbose("Stopped watching.");
        }

        /// <summary>Names the configured source (or says there is none), without connecting.</summary>
        public static string DescribeSource(ReplyAdminConfiguration configuration) =>
            configuration.Source == null ? "(no source configured)" : SourceProviders.For(configuration.Source.Kind).Describe(configuration.Source);

        private static SourceContext SourceContextOf(ProcessingRequest request) => new SourceContext
        {
            Credentials = request.Credentials,
            Credential = request.SourceCredential,
            Timeout = request.Timeout,
            ReadOnly = request.Options.WhatIf,
        };

        private static ReplyAdminException NoSource(string configPath) =>
            new ReplyAdminException(ErrorIds.ReplySourceNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                "No inbound source is configured.", configPath, "Configure it with Set-ReplySource, or pipe message files in.");
    }

    /// <summary>
    /// Keeps two runs (a scheduled task firing while the last run still works) off the same source: an exclusive
    /// lock file per source beside the configuration, released by the operating system when a process dies.
    /// </summary>
    internal static class RunLock
    {
        public static IDisposable Acquire(string configPath, string sourceDescription)
        {
            string hash;
            using (var sha = SHA256.Create())
                hash = BitConverter.ToString(sha.ComputeHash(Encoding.UTF8.GetBytes(sourceDescription)), 0, 8).Replace("-", "").ToLowerInvariant();
            var directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", "locks");
            var path = Path.Combine(directory, $"run-{hash}.lock");
            try
            {
                Directory.CreateDirectory(directory);
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                throw new ReplyAdminException(ErrorIds.ProcessingAlreadyRunning, ReplyAdminErrorKind.ResourceUnavailable,
                    $"Another ReplyAdmin run is processing {sourceDescription}; this run does nothing.", sourceDescription,
                    "Nothing to do: the other run handles the waiting messages. If runs overlap often, schedule them further apart.", e);
            }
        }
    }
}
