using System;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Imap;

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
    /// <para type="synopsis">Tests that an IMAP folder can be reached over TLS, logged into and written.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ReplyImapConnection", DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ImapConnectionReport), ParameterSetName = new[] { ConfiguredSet, ExplicitSet })]
    [OutputType(typeof(bool))]
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
            else
            {
                var configuration = LoadConfiguration();
                ImapEndpointSettings settings = Target == ImapTestTarget.ReplyMailbox ? (ImapEndpointSettings)configuration.ReplyMailbox : configuration.Source;
                if (settings == null || (settings is InboundSourceSettings source && source.Kind != SourceKind.Imap))
                {
                    ThrowTerminatingError(Error(Target + "NotConfigured", ReplyAdminErrorKind.ObjectNotFound,
                        $"No IMAP {(Target == ImapTestTarget.ReplyMailbox ? "reply mailbox" : "source")} is configured in {ResolvedConfigPath}.",
                        ResolvedConfigPath, Target == ImapTestTarget.ReplyMailbox ? "Configure it with Set-ReplyMailbox." : "Configure it with Set-ReplySource -Kind Imap."));
                    return;
                }
                endpoint = ImapEndpoint.From(settings);
                if (settings is ReplyMailboxSettings mailbox) maxSize = mailbox.MaxMessageSize;
                credential = ResolveCredential(Credential, settings.UserName, settings.CredentialReference,
                    Target == ImapTestTarget.ReplyMailbox ? "replyMailbox.credentialReference" : "source.credentialReference", settings.Authentication);
                if (Credential != null) endpoint.UserName = Credential.UserName;
            }
            endpoint.Timeout = TimeSpan.FromSeconds(TimeoutSeconds);

            WriteVerbose($"Testing {endpoint} as '{endpoint.UserName}' (implicit TLS, certificate {(endpoint.CertificateThumbprint == null ? "validated against the trusted roots" : "pinned to " + endpoint.CertificateThumbprint)}).");
            var report = Invoke(token => ImapConnectionTester.TestAsync(endpoint, credential, maxSize, token));
            if (report.Succeeded)
                WriteVerbose($"Connected with {report.TlsProtocol}, {report.TlsCipher}; logged in to mailbox '{report.Mailbox}' with {report.AuthenticationMechanism}{(report.TokenExpiresOn.HasValue ? $" (token from {report.TokenSource}, expires {report.TokenExpiresOn.Value:u})" : "")}; folder '{report.Folder}' holds {report.MessageCount} messages and is writable; effective maximum message size {report.EffectiveMaxMessageSize} bytes.");
            else
                WriteVerbose($"Failed at step {report.FailedStep}: {report.FailureReason}");

            if (Quiet)
            {
                WriteObject(report.Succeeded);
                return;
            }
            WriteObject(report);
            if (!report.Succeeded)
                WriteEngineError(report.Error);
        }
    }
}
