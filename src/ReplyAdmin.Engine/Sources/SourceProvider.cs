using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Sources
{
    /// <summary>
    /// Everything the engine knows about one kind of inbound source, in one place: validating its settings, naming it,
    /// creating it for a run, waiting for arrivals between runs, and testing it. Adding a kind is one provider plus its
    /// line in <see cref="SourceProviders"/>.
    /// </summary>
    public interface ISourceProvider
    {
        /// <summary>The kind this provider serves.</summary>
        SourceKind Kind { get; }

        /// <summary>Checks the settings this kind reads.</summary>
        /// <exception cref="ConfigurationException">A setting is missing or invalid; the field is named.</exception>
        void Validate(InboundSourceSettings settings);

        /// <summary>Names the source in messages, locks and the journal (never a password).</summary>
        string Describe(InboundSourceSettings settings);

        /// <summary>Creates the source for one run; nothing is opened until <see cref="IReplySource.OpenAsync"/>.</summary>
        IReplySource Create(InboundSourceSettings settings, SourceContext context);

        /// <summary>Returns when a message waits (true) or <paramref name="maxWait"/> has passed (false).</summary>
        Task<bool> WaitForArrivalAsync(InboundSourceSettings settings, SourceContext context, TimeSpan maxWait, CancellationToken cancellationToken);

        /// <summary>Checks that the source can be reached and read, step by step; never throws for a failure it can name.</summary>
        Task<SourceTestReport> TestAsync(InboundSourceSettings settings, SourceContext context, CancellationToken cancellationToken);
    }

    /// <summary>What a source needs from the run besides its settings.</summary>
    public sealed class SourceContext
    {
        /// <summary>Resolves the configured credential reference.</summary>
        public CredentialResolver Credentials { get; set; } = new CredentialResolver();

        /// <summary>A login given for this run, overriding the configured credential reference.</summary>
        public NetworkCredential Credential { get; set; }

        /// <summary>Time limit of every network operation.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Look, change nothing (-WhatIf): no folders or directories are created, IMAP folders are opened read-only.</summary>
        public bool ReadOnly { get; set; }

        /// <summary>The login for an endpoint: the one given for the run, else the configured reference resolved.</summary>
        internal NetworkCredential Resolve(ImapEndpointSettings settings, string field) =>
            Credential ?? Credentials.Resolve(settings.UserName, settings.CredentialReference, field, settings.Authentication);
    }

    /// <summary>What testing a source found.</summary>
    public sealed class SourceTestReport
    {
        /// <summary>The kind tested.</summary>
        public SourceKind Kind { get; internal set; }

        /// <summary>The source, as named in messages.</summary>
        public string Source { get; internal set; }

        /// <summary>True when every step succeeded.</summary>
        public bool Succeeded => Error == null;

        /// <summary>How many messages wait there, where known.</summary>
        public int? WaitingMessages { get; internal set; }

        /// <summary>The first failure; null when the test succeeded.</summary>
        public ReplyAdminException Error { get; internal set; }

        /// <summary>The kind's own detailed report (an <c>ImapConnectionReport</c> for IMAP), if it has one.</summary>
        public object Details { get; internal set; }
    }

    /// <summary>The providers of every source kind.</summary>
    public static class SourceProviders
    {
        private static readonly Dictionary<SourceKind, ISourceProvider> ByKind = new Dictionary<SourceKind, ISourceProvider>
        {
            [SourceKind.Imap] = new Imap.ImapSourceProvider(),
            [SourceKind.Maildir] = new Files.MaildirSourceProvider(),
            [SourceKind.Directory] = new Files.DirectorySourceProvider(),
        };

        /// <summary>The provider of <paramref name="kind"/>.</summary>
        public static ISourceProvider For(SourceKind kind) =>
            ByKind.TryGetValue(kind, out var provider) ? provider
                : throw new ConfigurationException(ErrorIds.SourceKindUnsupported, "source.kind", $"'{kind}' is not a source kind this version knows.", kind,
                    $"Use one of: {string.Join(", ", ByKind.Keys)}.");
    }
}
