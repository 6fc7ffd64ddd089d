using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Imap;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>What <see cref="ImapConnectionTester"/> found, step by step. Holds no password.</summary>
    public sealed class ImapConnectionReport
    {
        /// <summary>Host tested.</summary>
        public string Server { get; internal set; }
        /// <summary>Port tested.</summary>
        public int Port { get; internal set; }
        /// <summary>User that logged in.</summary>
        public string UserName { get; internal set; }
        /// <summary>Folder tested.</summary>
        public string Folder { get; internal set; }
        /// <summary>True when every step passed.</summary>
        public bool Succeeded => FailedStep == ImapConnectionStep.None;
        /// <summary>The step that failed, or <see cref="ImapConnectionStep.None"/>.</summary>
        public ImapConnectionStep FailedStep { get; internal set; }
        /// <summary>Why it failed, in a sentence.</summary>
        public string FailureReason { get; internal set; }
        /// <summary>The error id of the failure (e.g. <c>ImapAuthenticationFailed</c>).</summary>
        public string FailureErrorId { get; internal set; }
        /// <summary>What to do about the failure.</summary>
        public string RecommendedAction { get; internal set; }
        /// <summary>The underlying error.</summary>
        public ReplyAdminException Error { get; internal set; }
        /// <summary>Negotiated TLS protocol.</summary>
        public string TlsProtocol { get; internal set; }
        /// <summary>Negotiated cipher.</summary>
        public string TlsCipher { get; internal set; }
        /// <summary>The server's certificate, when the handshake got that far.</summary>
        public CertificateInfo Certificate { get; internal set; }
        /// <summary>How the login was made: <c>XOAUTH2</c> or <c>OAUTHBEARER</c> with a token, else <c>Password</c> (the server's best password mechanism).</summary>
        public string AuthenticationMechanism { get; internal set; }
        /// <summary>Where the token came from (OAuth2 only; never the token).</summary>
        public string TokenSource { get; internal set; }
        /// <summary>When the token used for the login expires (OAuth2 only).</summary>
        public DateTimeOffset? TokenExpiresOn { get; internal set; }
        /// <summary>The mailbox logged into (for app-only OAuth2: the shared mailbox the app was granted).</summary>
        public string Mailbox { get; internal set; }
        /// <summary>True after a successful login.</summary>
        public bool Authenticated { get; internal set; }
        /// <summary>True when the folder exists.</summary>
        public bool FolderExists { get; internal set; }
        /// <summary>True when the folder opens read-write (and, where the server has ACLs, grants the insert right).</summary>
        public bool FolderWritable { get; internal set; }
        /// <summary>Messages in the folder.</summary>
        public int? MessageCount { get; internal set; }
        /// <summary>Capabilities the server announced after login.</summary>
        public string[] Capabilities { get; internal set; } = new string[0];
        /// <summary>The server's APPENDLIMIT, when announced.</summary>
        public long? ServerAppendLimit { get; internal set; }
        /// <summary>Largest message that will be stored: the configured maximum or the server's APPENDLIMIT, whichever is smaller.</summary>
        public long EffectiveMaxMessageSize { get; internal set; }
    }

    /// <summary>Checks, step by step, that an IMAP folder can be reached, logged into and written.</summary>
    public static class ImapConnectionTester
    {
        // The capabilities the processing relies on or profits from, shown first and by name.
        private static readonly ImapCapabilities[] Interesting =
        {
            ImapCapabilities.UidPlus, ImapCapabilities.Move, ImapCapabilities.MultiAppend, ImapCapabilities.CondStore,
            ImapCapabilities.Idle, ImapCapabilities.AppendLimit, ImapCapabilities.Quota, ImapCapabilities.LiteralPlus,
            ImapCapabilities.LiteralMinus, ImapCapabilities.QuickResync, ImapCapabilities.Acl, ImapCapabilities.UTF8Accept,
            ImapCapabilities.ESearch, ImapCapabilities.SpecialUse, ImapCapabilities.Namespace,
        };

        /// <summary>Runs every step and reports; never throws for a server-side failure.</summary>
        /// <param name="endpoint">What to test.</param>
        /// <param name="credential">The login.</param>
        /// <param name="configuredMaxMessageSize">The configured maximum message size.</param>
        /// <param name="cancellationToken">Cancels the test.</param>
        public static async Task<ImapConnectionReport> TestAsync(ImapEndpoint endpoint, NetworkCredential credential,
            long configuredMaxMessageSize, CancellationToken cancellationToken)
        {
            var report = new ImapConnectionReport
            {
                Server = endpoint.Host,
                Port = endpoint.Port,
                UserName = endpoint.UserName,
                Folder = endpoint.Folder,
                EffectiveMaxMessageSize = configuredMaxMessageSize,
            };
            using (var client = ImapConnector.CreateClient(endpoint, out var certificate))
            {
                try
                {
                    // The TLS session is ReplyAdmin's own (MailKit gets an already secured stream), so it is asked directly.
                    var tls = await ImapConnector.ConnectAsync(client, endpoint, certificate, cancellationToken).ConfigureAwait(false);
                    report.Certificate = certificate.Presented;
                    report.TlsProtocol = tls.SslProtocol.ToString();
                    report.TlsCipher = $"{tls.CipherAlgorithm} ({tls.CipherStrength} bit)";
                    var oauth = credential as Authentication.OAuthCredential;
                    report.AuthenticationMechanism = oauth == null ? "Password" : Authentication.OAuthSasl.Choose(client, oauth.Mechanism);
                    report.TokenSource = oauth?.Tokens.Source.Description;
                    await ImapConnector.AuthenticateAsync(client, endpoint, credential, cancellationToken).ConfigureAwait(false);
                    report.Authenticated = true;
                    report.Mailbox = endpoint.UserName;
                    report.AuthenticationMechanism = oauth?.LastMechanism ?? report.AuthenticationMechanism;
                    report.TokenExpiresOn = oauth?.Tokens.Current?.ExpiresOn;
                    report.Capabilities = Names(client.Capabilities);
                    if (client.AppendLimit.HasValue)
                    {
                        report.ServerAppendLimit = client.AppendLimit.Value;
                        report.EffectiveMaxMessageSize = Math.Min(configuredMaxMessageSize, client.AppendLimit.Value);
                    }
                    await CheckFolderAsync(client, endpoint, report, cancellationToken).ConfigureAwait(false);
                    await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
                }
                catch (ImapConnectionException e)
                {
                    report.Certificate = report.Certificate ?? certificate.Presented;
                    report.FailedStep = e.Step;
                    report.FailureReason = e.Message;
                    report.FailureErrorId = e.ErrorId;
                    report.RecommendedAction = e.RecommendedAction;
                    report.Error = e;
                }
            }
            return report;
        }

        private static async Task CheckFolderAsync(ImapClient client, ImapEndpoint endpoint, ImapConnectionReport report, CancellationToken cancellationToken)
        {
            var folder = await ImapConnector.GetFolderAsync(client, endpoint.Folder, cancellationToken).ConfigureAwait(false);
            report.FolderExists = true;
            try
            {
                // SELECT (not EXAMINE) answers READ-WRITE or READ-ONLY; it changes no flags of staff's messages.
                await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken).ConfigureAwait(false);
                report.MessageCount = folder.Count;
                var writable = folder.Access == FolderAccess.ReadWrite;
                if (writable && (client.Capabilities & ImapCapabilities.Acl) != 0)
                {
                    var rights = await folder.GetMyAccessRightsAsync(cancellationToken).ConfigureAwait(false);
                    writable = rights.Contains(AccessRight.AppendMessages);
                }
                report.FolderWritable = writable;
                await folder.CloseAsync(false, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Folder, ErrorIds.ImapFolderNotSelectable, ReplyAdminErrorKind.InvalidArgument,
                    $"The folder '{endpoint.Folder}' cannot be opened: {e.ResponseText}", endpoint.Folder, "Choose a folder that holds messages.", e);
            }
            if (!report.FolderWritable)
                throw new ImapConnectionException(ImapConnectionStep.Folder, ErrorIds.ImapFolderReadOnly, ReplyAdminErrorKind.SecurityError,
                    $"The folder '{endpoint.Folder}' is read-only for '{endpoint.UserName}'; replies cannot be stored there.", endpoint.Folder,
                    "Grant the account the right to add messages (ACL 'i'), or choose another folder.");
        }

        private static string[] Names(ImapCapabilities capabilities)
        {
            var names = new List<string>();
            foreach (var flag in Interesting)
                if ((capabilities & flag) != 0) names.Add(flag.ToString().ToUpperInvariant());
            foreach (ImapCapabilities flag in Enum.GetValues(typeof(ImapCapabilities)))
                if (flag != ImapCapabilities.None && (capabilities & flag) == flag && !Interesting.Contains(flag) && IsSingleBit((ulong)flag))
                    names.Add(flag.ToString().ToUpperInvariant());
            return names.ToArray();
        }

        private static bool IsSingleBit(ulong value) => value != 0 && (value & (value - 1)) == 0;
    }
}
