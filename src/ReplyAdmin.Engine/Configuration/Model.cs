using System.Collections.Generic;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>What happens to a reply that reaches a list (the first half of a reply-handling setting).</summary>
    public enum ReplyAction
    {
        /// <summary>A copy goes to the shared IMAP folder.</summary>
        StoreInImap,
        /// <summary>The original is forwarded to the list's forward address(es) and a copy goes to the shared IMAP folder.</summary>
        ForwardAndStoreInImap,
    }

    /// <summary>Whether auto-generated replies (out-of-office, bounces) are handled like the rest (the second half).</summary>
    public enum AutoReplyHandling
    {
        /// <summary>Auto-generated replies are stored (and forwarded) like any other.</summary>
        Include,
        /// <summary>Auto-generated replies are filtered out and only recorded.</summary>
        Exclude,
    }

    /// <summary>Kind of inbound source the replies arrive in.</summary>
    public enum SourceKind
    {
        /// <summary>An IMAP mailbox the MTA delivers to (TLS).</summary>
        Imap,
        /// <summary>A Maildir (cur/ and new/).</summary>
        Maildir,
        /// <summary>A directory of <c>.eml</c> files.</summary>
        Directory,
    }

    /// <summary>How the SMTP relay connection is secured.</summary>
    public enum SmtpTlsMode
    {
        /// <summary>STARTTLS is required (submission, port 587).</summary>
        StartTls,
        /// <summary>TLS from the first byte (port 465).</summary>
        Implicit,
        /// <summary>No TLS; allowed only for a relay on the loopback interface.</summary>
        None,
    }

    /// <summary>A mailing list ("Verteiler") whose replies ReplyAdmin handles.</summary>
    public sealed class ReplyList
    {
        /// <summary>Short name: letters, digits, '.', '_' and '-'; it also names the IMAP keyword staff filter by.</summary>
        public string Name { get; set; }

        /// <summary>The list's own address that campaign recipients reply to.</summary>
        public string Address { get; set; }

        /// <summary>Store, or forward and store.</summary>
        public ReplyAction Action { get; set; } = ReplyAction.StoreInImap;

        /// <summary>Include or exclude auto-generated replies.</summary>
        public AutoReplyHandling AutoReplies { get; set; } = AutoReplyHandling.Include;

        /// <summary>Where replies are forwarded when <see cref="Action"/> is <see cref="ReplyAction.ForwardAndStoreInImap"/>.</summary>
        public List<string> ForwardTo { get; set; } = new List<string>();

        /// <summary>Free text for the administrator.</summary>
        public string Description { get; set; }

        /// <summary>What scan verdicts do to this list's replies; null means the careful defaults (<see cref="Scanning.ScanPolicy.Default"/>).</summary>
        public Scanning.ScanPolicy ScanPolicy { get; set; }

        /// <summary>How forwards leave so that receivers accept them (DMARC); <see cref="SenderAuthentication.ForwardMode.Auto"/> by default.</summary>
        public SenderAuthentication.ForwardMode ForwardMode { get; set; } = SenderAuthentication.ForwardMode.Auto;

        /// <summary>Forward a reply whose From domain asks reject/quarantine although nothing aligned passed (it is still marked $Phishing).</summary>
        public bool ForwardUnauthenticated { get; set; }

        /// <summary>A deep copy, so callers can change it without touching the loaded configuration.</summary>
        public ReplyList Clone()
        {
            var copy = (ReplyList)MemberwiseClone();
            copy.ForwardTo = new List<string>(ForwardTo ?? new List<string>());
            copy.ScanPolicy = ScanPolicy?.Clone();
            return copy;
        }
    }

    /// <summary>Connection settings shared by every IMAP endpoint (the reply mailbox and an IMAP source).</summary>
    public abstract class ImapEndpointSettings
    {
        /// <summary>Server host name (the certificate must be valid for it unless pinned).</summary>
        public string Host { get; set; }

        /// <summary>Implicit-TLS port, 993 by default. Plaintext IMAP is never used.</summary>
        public int Port { get; set; } = 993;

        /// <summary>Login name.</summary>
        public string UserName { get; set; }

        /// <summary>The folder to use.</summary>
        public string Folder { get; set; } = "INBOX";

        /// <summary>Where the password comes from (<c>env:NAME</c>, <c>file:/path</c>, <c>secret:Name</c>); never the password itself.</summary>
        public string CredentialReference { get; set; }

        /// <summary>SHA-256 (or SHA-1) thumbprint of a certificate to accept although it is not trusted (self-signed).</summary>
        public string CertificateThumbprint { get; set; }

        /// <summary>How to log in: password (when null) or OAuth2 with a token source.</summary>
        public AuthenticationSettings Authentication { get; set; }
    }

    /// <summary>The one shared IMAP folder all replies are stored in.</summary>
    public sealed class ReplyMailboxSettings : ImapEndpointSettings
    {
        /// <summary>Default maximum message size: 10 MB, the limit of the original platform's inbox.</summary>
        public const long DefaultMaxMessageSize = 10L * 1024 * 1024;

        /// <summary>Largest message stored, in bytes; the server's APPENDLIMIT wins where smaller.</summary>
        public long MaxMessageSize { get; set; } = DefaultMaxMessageSize;
    }

    /// <summary>Where replies arrive.</summary>
    public sealed class InboundSourceSettings : ImapEndpointSettings
    {
        /// <summary>IMAP mailbox, Maildir or directory of .eml files.</summary>
        public SourceKind Kind { get; set; } = SourceKind.Imap;

        /// <summary>Maildir or directory path (for <see cref="SourceKind.Maildir"/> and <see cref="SourceKind.Directory"/>).</summary>
        public string Path { get; set; }

        /// <summary>Where handled messages are moved (an IMAP folder, or a directory for file sources).</summary>
        public string ProcessedFolder { get; set; } = "ReplyAdmin/Processed";

        /// <summary>Where too-large messages are moved, with the reason.</summary>
        public string RejectedFolder { get; set; } = "ReplyAdmin/Rejected";

        /// <summary>Optional: where excluded auto-generated messages are kept (else they go to <see cref="ProcessedFolder"/>).</summary>
        public string ArchiveFolder { get; set; }

        /// <summary>The same source read from another folder (a shard); everything else is shared.</summary>
        internal InboundSourceSettings WithFolder(string folder)
        {
            var copy = (InboundSourceSettings)MemberwiseClone();
            copy.Folder = folder;
            return copy;
        }
    }

    /// <summary>The SMTP relay forwards leave through.</summary>
    public sealed class SmtpRelaySettings
    {
        /// <summary>Relay host.</summary>
        public string Host { get; set; }

        /// <summary>Relay port (587 for STARTTLS, 465 for implicit TLS).</summary>
        public int Port { get; set; } = 587;

        /// <summary>How the connection is secured.</summary>
        public SmtpTlsMode TlsMode { get; set; } = SmtpTlsMode.StartTls;

        /// <summary>Login name; empty when the relay needs no authentication.</summary>
        public string UserName { get; set; }

        /// <summary>Where the password comes from; never the password itself.</summary>
        public string CredentialReference { get; set; }

        /// <summary>Envelope sender (MAIL FROM) of forwards, so bounces of forwards come back to the platform.</summary>
        public string EnvelopeSender { get; set; }

        /// <summary>Thumbprint of a certificate to accept although it is not trusted.</summary>
        public string CertificateThumbprint { get; set; }

        /// <summary>How to log in: password (when null) or OAuth2 with a token source.</summary>
        public AuthenticationSettings Authentication { get; set; }

        /// <summary>Domain (d=) of the DKIM signature and ARC seal the relay adds to every forward; null: forwards are not signed.</summary>
        public string DkimDomain { get; set; }

        /// <summary>DKIM selector (s=): the key is published at <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c>.</summary>
        public string DkimSelector { get; set; }

        /// <summary>Where the private signing key (PEM, RSA or Ed25519) is kept: env:, file: (owner-only) or secret:; never the key itself.</summary>
        public string DkimKeyReference { get; set; }
    }

    /// <summary>The whole configuration, as kept in one JSON file.</summary>
    public sealed class ReplyAdminConfiguration
    {
        /// <summary>Version of the file format this build writes.</summary>
        public const int CurrentSchemaVersion = 1;

        /// <summary>File format version.</summary>
        public int SchemaVersion { get; set; } = CurrentSchemaVersion;

        /// <summary>The lists.</summary>
        public List<ReplyList> Lists { get; set; } = new List<ReplyList>();

        /// <summary>The shared IMAP folder.</summary>
        public ReplyMailboxSettings ReplyMailbox { get; set; }

        /// <summary>Where replies arrive.</summary>
        public InboundSourceSettings Source { get; set; }

        /// <summary>Relay for forwards.</summary>
        public SmtpRelaySettings SmtpRelay { get; set; }

        /// <summary>Content scanners (rspamd, clamd, trusted MTA headers); null means no scanning.</summary>
        public Scanning.ScannerSettings Scanner { get; set; }

        /// <summary>How several hosts share one inbound mailbox (host identity, lease time to live); null for the defaults.</summary>
        public CoordinationSettings Coordination { get; set; }

        /// <summary>How inbound replies' senders are verified (authserv-id, DNS servers); null for the defaults.</summary>
        public SenderAuthentication.SenderAuthenticationSettings SenderAuthentication { get; set; }
    }

    /// <summary>How this host takes part when several hosts process one inbound mailbox.</summary>
    public sealed class CoordinationSettings
    {
        /// <summary>This host's name in leases; null for the host name. Hosts must have different ids.</summary>
        public string HostId { get; set; }

        /// <summary>A lease without heartbeat for this long is taken over by another host; null for 60 seconds.</summary>
        public int? LeaseTimeToLiveSeconds { get; set; }

        /// <summary>
        /// Shards of an IMAP source: the sub-folders <c>&lt;folder&gt;/Shard-0</c> .. <c>Shard-(n-1)</c>, each with a lease of its own,
        /// so several hosts process at once (the delivery side fills them, e.g. by the Sieve script of Get-ReplyShardSieveScript).
        /// The source folder itself stays a unit too. Null or 0: one lease on the whole source.
        /// </summary>
        public int? Shards { get; set; }
    }
}
