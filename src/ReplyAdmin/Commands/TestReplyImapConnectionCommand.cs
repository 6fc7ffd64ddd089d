using System;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Commands
{
    /// <summary>Which configured IMAP endpoint to test.</summary>
    public enum ImapTestTarget
    {
        /// <summary>The shared folder replies are stored in.</summary>
        ReplyMailbox,
        /// <summary>The inbound IMAP mailbox replies arrive in.</summary>
        Source,
        /// <summary>The SMTP relay forwards leave through (connection, TLS, login) and, when it signs, its DKIM key in DNS.</summary>
        Relay,
    }

    /// <summary>
    /// Tests that an IMAP folder can be reached over TLS, logged into and written.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ReplyImapConnection", DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ImapConnectionReport), ParameterSetName = new[] { ConfiguredSet, ExplicitSet })]
    [OutputType(typeof(SourceTestReport))]
    [OutputType(typeof(ReplyAdmin.Engine.Smtp.RelayTestReport))]
    [OutputType(typeof(bool))]
    [Alias("Test-ImapConnection")] // the name the product was specified with
    public sealed class TestReplyImapConnectionCommand : ReplyAdminCmdlet
    {
        private const string ConfiguredSet = "Configured";
        private const string ExplicitSet = "Explicit";

        /// <summary>The configured endpoint to test.</summary>
        [Parameter(ParameterSetName = ConfiguredSet, Position = 0)]
        public ImapTestTarget Target { get; set; } = ImapTestTarget.ReplyMailbox;

        /// <summary>IMAP server to test instead of the configured one.</summary>
        [Parameter(ParameterSetName = ExplicitSet, Mandatory = true)]
        [Alias("HostName", "ComputerName")]
        [ValidateNotNullOrEmpty]
        public string Server { get; set; }

        /// <summary>Implicit-TLS port.</summary>
        [Parameter(ParameterSetName = ExplicitSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 993;

        /// <summary>Folder to check.</summary>
        [Parameter(ParameterSetName = ExplicitSet)]
        [ValidateNotNullOrEmpty]
        public string Folder { get; set; } = "INBOX";

        /// <summary>Thumbprint of a self-signed certificate to accept.</summary>
        [Parameter(ParameterSetName = ExplicitSet)]
        public string CertificateThumbprint { get; set; }

        /// <summary>The login; overrides the configured credential reference.</summary>
        [Parameter(ParameterSetName = ConfiguredSet)]
        [Parameter(ParameterSetName = ExplicitSet, Mandatory = true)]
        [Credential]
        public PSCredential Credential { get; set; }

        /// <summary>Time limit of each network step, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSeconds { get; set; } = 30;

        /// <summary>With -Target Relay: the DNS server (IP address, optionally :port) to ask for the signing key; default the sender checks' servers, else the system's.</summary>
        [Parameter(ParameterSetName = ConfiguredSet)]
        [ValidateNotNullOrEmpty]
        public string DnsServer { get; set; }

        /// <summary>Return only $true or $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            ImapEndpoint endpoint;
            long maxSize = ReplyMailboxSettings.DefaultMaxMessageSize;
            System.Net.NetworkCredential credential;
            if (ParameterSetName == ExplicitSet)
            {
                endpoint = new ImapEndpoint { Host = Server, Port = Port, Folder = Folder, UserName = Credential.UserName, CertificateThumbprint = CertificateThumbprint };
                credential = Credential.GetNetworkCredential();
            }
            else if (Target == ImapTestTarget.Source)
            {
                TestSource(LoadConfiguration());
                return;
            }
            else if (Target == ImapTestTarget.Relay)
            {
                TestRelay(LoadConfiguration());
                return;
            }
            else
            {
                var configuration = LoadConfiguration();
                var settings = configuration.ReplyMailbox;
                if (settings == null)
                {
                    ThrowTerminatingError(Error(ErrorIds.ReplyMailboxNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                        $"No reply mailbox is configured in {ResolvedConfigPath}.", ResolvedConfigPath, "Configure it with Set-ReplyMailbox."));
                    return;
                }
                endpoint = ImapEndpoint.From(settings);
                maxSize = settings.MaxMessageSize;
                credential = ResolveCredential(Credential, settings.UserName, settings.CredentialReference, "replyMailbox.credentialReference", settings.Authentication);
                if (Credential != null) endpoint.UserName = Credential.UserName;
            }
            endpoint.Timeout = TimeSpan.FromSeconds(TimeoutSeconds);

            WriteVerbose($"Testing {endpoint} as '{endpoint.UserName}' (implicit TLS, certificate {(endpoint.CertificateThumbprint == null ? "validated against the trusted roots" : "pinned to " + endpoint.CertificateThumbprint)}).");
            Write(Invoke(token => ImapConnectionTester.TestAsync(endpoint, credential, maxSize, token)));
        }

        // The source is tested by its kind's provider: an IMAP source as the reply mailbox is, a directory for existence and write access.
        private void TestSource(ReplyAdminConfiguration configuration)
        {
            if (configuration.Source == null)
            {
                ThrowTerminatingError(Error(ErrorIds.ReplySourceNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"No inbound source is configured in {ResolvedConfigPath}.", ResolvedConfigPath, "Configure it with Set-ReplySource."));
                return;
            }
            var provider = SourceProviders.For(configuration.Source.Kind);
            var context = new SourceContext { Credentials = CredentialResolver, Credential = Credential?.GetNetworkCredential(), Timeout = TimeSpan.FromSeconds(TimeoutSeconds) };
            WriteVerbose($"Testing the source {provider.Describe(configuration.Source)}.");
            var report = Invoke(token => provider.TestAsync(configuration.Source, context, token));
            if (report.Details is ImapConnectionReport imap)
            {
                if (imap.Succeeded && configuration.ReplyMailbox != null && VerboseWanted)
                    WriteVerbose(DescribeServerCopy(configuration, provider, context));
                Write(imap);
                return;
            }
            WriteVerbose(report.Succeeded ? $"The source is readable and writable; {report.WaitingMessages} message(s) wait." : $"Failed: {report.Error.Message}");
            Write(report, report.Succeeded, report.Error);
        }

        // Whether a run would copy replies on the server (the reply folder in the source's account, or shared with it) or
        // fetch and append them: told in -Verbose, since it needs the reply mailbox's login as well.
        private string DescribeServerCopy(ReplyAdminConfiguration configuration, ISourceProvider provider, SourceContext context)
        {
            var mailbox = configuration.ReplyMailbox;
            try
            {
                // Engine calls without Invoke: a reply mailbox that fails here must not end the source's test.
                var credential = CredentialResolver.Resolve(mailbox.UserName, mailbox.CredentialReference, "replyMailbox.credentialReference", mailbox.Authentication);
                using (var source = (ImapReplySource)provider.Create(configuration.Source, context))
                using (var store = new ImapReplyStore(mailbox, credential, context.Timeout))
                    return source.DescribeServerCopyAsync(mailbox, store.UidValidityAsync, StopToken).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (ReplyAdminException e)
            {
                return $"Whether replies would be copied on the server is not known: the reply mailbox could not be checked ({e.ErrorId}: {e.Message})";
            }
        }

        // The relay: connect, TLS and login as a forward would; then whether DNS publishes the key it signs with.
        private void TestRelay(ReplyAdminConfiguration configuration)
        {
            var relay = configuration.SmtpRelay;
            if (relay == null)
            {
                ThrowTerminatingError(Error(ErrorIds.SmtpRelayNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"No SMTP relay is configured in {ResolvedConfigPath}.", ResolvedConfigPath, "Configure it with Set-ReplySmtpRelay."));
                return;
            }
            // The key is looked up where the sender checks look (Set-ReplySenderAuthentication -DnsServer) unless -DnsServer says otherwise.
            var dns = configuration.SenderAuthentication?.DnsServers?.ToArray();
            if (DnsServer != null)
            {
                dns = new[] { DnsServer };
                try { ReplyAdmin.Engine.SenderAuthentication.SenderAuthenticationSettings.Validate(new ReplyAdmin.Engine.SenderAuthentication.SenderAuthenticationSettings { DnsServers = dns.ToList() }, "DnsServer"); }
                catch (ConfigurationException e) { ThrowTerminatingError(ToErrorRecord(e)); return; }
            }
            var credential = string.IsNullOrEmpty(relay.UserName) && Credential == null ? null
                : ResolveCredential(Credential, relay.UserName, relay.CredentialReference, "smtpRelay.credentialReference", relay.Authentication);
            var signer = Invoke(() => ReplyAdmin.Engine.Smtp.RelaySigner.FromSettings(relay, CredentialResolver));
            WriteVerbose($"Testing the SMTP relay {relay.Host}:{relay.Port} ({relay.TlsMode}){(signer != null ? $" and the DKIM key at {signer.Selector}._domainkey.{signer.Domain}" : "")}.");
            var report = Invoke(token => ReplyAdmin.Engine.Smtp.RelayTester.TestAsync(relay, credential, signer, dns, TimeSpan.FromSeconds(TimeoutSeconds), token));
            if (report.Warning != null)
                WriteWarning(report.Warning);
            Write(report, report.Succeeded, report.Error);
        }

        private void Write(ImapConnectionReport report)
        {
            if (report.Certificate?.Warning != null)
                WriteWarning(report.Certificate.Warning);
            if (report.Succeeded)
                WriteVerbose($"Connected with {report.TlsProtocol}, {report.TlsCipher}; logged in to mailbox '{report.Mailbox}' with {report.AuthenticationMechanism}{(report.TokenExpiresOn.HasValue ? $" (token from {report.TokenSource}, expires {report.TokenExpiresOn.Value:u})" : "")}; folder '{report.Folder}' holds {report.MessageCount} messages and is writable; effective maximum message size {report.EffectiveMaxMessageSize} bytes.");
            else
                WriteVerbose($"Failed at step {report.FailedStep}: {report.FailureReason}");
            Write(report, report.Succeeded, report.Error);
        }

        // -Quiet: only $true or $false; else the report, and its failure as a non-terminating error.
        private void Write(object report, bool succeeded, ReplyAdminException error)
        {
            if (Quiet)
            {
                WriteObject(succeeded);
                return;
            }
            WriteObject(report);
            if (!succeeded)
                WriteEngineError(error);
        }
    }
}
