using System;
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
    }

    /// <summary>
    /// Tests that an IMAP folder can be reached over TLS, logged into and written.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ReplyImapConnection", DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ImapConnectionReport), ParameterSetName = new[] { ConfiguredSet, ExplicitSet })]
    [OutputType(typeof(SourceTestReport))]
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
                Write(imap);
                return;
            }
            WriteVerbose(report.Succeeded ? $"The source is readable and writable; {report.WaitingMessages} message(s) wait." : $"Failed: {report.Error.Message}");
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
