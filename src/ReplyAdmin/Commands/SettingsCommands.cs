using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Smtp;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Shared by the Set-* cmdlets of one settings section: every bound parameter sets the property of the same
    /// name (<c>-Server</c> sets <c>Host</c>), under the configuration lock, then the whole file is validated.
    /// </summary>
    public abstract class SetSettingsCmdlet<TSettings> : ReplyAdminCmdlet where TSettings : class, new()
    {
        /// <summary>Output the changed settings.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>What the settings are called in messages, e.g. "reply mailbox".</summary>
        protected abstract string SectionName { get; }

        /// <summary>The section of the configuration, created when missing.</summary>
        protected abstract TSettings Section(ReplyAdminConfiguration configuration);

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var other = OtherChanges().ToList();
            var changes = MyInvocation.BoundParameters.Keys
                .Where(k => k != nameof(PassThru) && k != nameof(ConfigPath) && !other.Contains(k) && typeof(TSettings).GetProperty(PropertyName(k)) != null)
                .ToList();
            if (!ShouldProcess($"{SectionName} in {ResolvedConfigPath}", $"Set {string.Join(", ", changes.Concat(other))}"))
                return;
            var settings = Invoke(() => Store.Update(configuration =>
            {
                var section = Section(configuration);
                ApplyOtherChanges(section);
                foreach (var key in changes)
                {
                    var value = GetType().GetProperty(key).GetValue(this); // the cmdlet's value, after any resolution in BeginProcessing
                    if (value is SwitchParameter s) value = s.IsPresent;
                    // An empty thumbprint removes the pin; anything else is stored in one canonical form (or refused by validation).
                    if (key.EndsWith("Thumbprint", StringComparison.Ordinal))
                        value = string.IsNullOrEmpty((string)value) ? null : ConfigurationValidator.NormalizeThumbprint((string)value) ?? (string)value;
                    typeof(TSettings).GetProperty(PropertyName(key)).SetValue(section, value);
                }
                return section;
            }));
            WriteVerbose($"Set {string.Join(", ", changes.Concat(other))} of the {SectionName} in {ResolvedConfigPath}.");
            if (PassThru) WriteObject(settings);
        }

        /// <summary>Bound parameters that set more than a property of the same name (the authentication settings).</summary>
        protected virtual IEnumerable<string> OtherChanges() => Enumerable.Empty<string>();

        /// <summary>Applies <see cref="OtherChanges"/> to the section, under the configuration lock.</summary>
        protected virtual void ApplyOtherChanges(TSettings section) { }

        private static string PropertyName(string parameter) => parameter == "Server" ? "Host" : parameter;
    }

    /// <summary>Shared by the Get-* cmdlets of one settings section: the section, or an error when it is not configured.</summary>
    public abstract class GetSettingsCmdlet<TSettings> : ReplyAdminCmdlet where TSettings : class
    {
        /// <summary>The section of the configuration; null when not configured.</summary>
        protected abstract TSettings Section(ReplyAdminConfiguration configuration);

        /// <summary>ErrorId when the section is not configured.</summary>
        protected abstract string NotConfiguredErrorId { get; }

        /// <summary>What the settings are called in messages.</summary>
        protected abstract string SectionName { get; }

        /// <summary>The command that configures the section.</summary>
        protected abstract string ConfigureWith { get; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var settings = Section(LoadConfiguration());
            if (settings == null)
                WriteError(Error(NotConfiguredErrorId, ReplyAdminErrorKind.ObjectNotFound, $"No {SectionName} is configured in {ResolvedConfigPath}.",
                    ResolvedConfigPath, $"Configure it with {ConfigureWith}."));
            else
                WriteObject(settings);
        }
    }

    /// <summary>Parameters shared by the IMAP endpoints (reply mailbox and IMAP source).</summary>
    public abstract class SetImapEndpointCmdlet<TSettings> : SetServerSettingsCmdlet<TSettings> where TSettings : ImapEndpointSettings, new()
    {
        /// <summary>IMAP server host name.</summary>
        [Parameter]
        [Alias("HostName", "ComputerName")]
        [ValidateNotNullOrEmpty]
        public string Server { get; set; }

        /// <summary>Implicit-TLS port (993).</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>Login name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string UserName { get; set; }

        /// <summary>IMAP folder.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(FolderNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Folder { get; set; }

        /// <summary>Where the password is kept: env:NAME, file:/path or secret:Name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string CredentialReference { get; set; }

        /// <summary>SHA-256 thumbprint of a self-signed certificate to accept.</summary>
        [Parameter]
        [AllowEmptyString]
        public string CertificateThumbprint { get; set; }
    }

    /// <summary>
    /// Gets the settings of the shared IMAP folder that replies are stored in.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyMailbox")]
    [OutputType(typeof(ReplyMailboxSettings))]
    public sealed class GetReplyMailboxCommand : GetSettingsCmdlet<ReplyMailboxSettings>
    {
        /// <inheritdoc />
        protected override ReplyMailboxSettings Section(ReplyAdminConfiguration configuration) => configuration.ReplyMailbox;

        /// <inheritdoc />
        protected override string NotConfiguredErrorId => ErrorIds.ReplyMailboxNotConfigured;

        /// <inheritdoc />
        protected override string SectionName => "reply mailbox";

        /// <inheritdoc />
        protected override string ConfigureWith => "Set-ReplyMailbox -Server -UserName -Folder -CredentialReference";
    }

    /// <summary>
    /// Sets the shared IMAP folder that replies are stored in (implicit TLS, port 993).
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplyMailbox", SupportsShouldProcess = true)]
    [OutputType(typeof(ReplyMailboxSettings))]
    public sealed class SetReplyMailboxCommand : SetImapEndpointCmdlet<ReplyMailboxSettings>
    {
        /// <summary>Largest message stored, in bytes (default 10 MB).</summary>
        [Parameter]
        [ValidateRange(1024L, int.MaxValue)]
        public long MaxMessageSize { get; set; }

        /// <inheritdoc />
        protected override string SectionName => "reply mailbox";

        /// <inheritdoc />
        protected override string FieldName => "replyMailbox";

        /// <inheritdoc />
        protected override ReplyMailboxSettings Section(ReplyAdminConfiguration configuration) =>
            configuration.ReplyMailbox ?? (configuration.ReplyMailbox = new ReplyMailboxSettings());
    }

    /// <summary>
    /// Gets the settings of the inbound source that replies arrive in.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplySource")]
    [OutputType(typeof(InboundSourceSettings))]
    public sealed class GetReplySourceCommand : GetSettingsCmdlet<InboundSourceSettings>
    {
        /// <inheritdoc />
        protected override InboundSourceSettings Section(ReplyAdminConfiguration configuration) => configuration.Source;

        /// <inheritdoc />
        protected override string NotConfiguredErrorId => ErrorIds.ReplySourceNotConfigured;

        /// <inheritdoc />
        protected override string SectionName => "inbound source";

        /// <inheritdoc />
        protected override string ConfigureWith => "Set-ReplySource";
    }

    /// <summary>
    /// Sets where replies arrive: an IMAP mailbox, a Maildir or a directory of .eml files.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplySource", SupportsShouldProcess = true)]
    [OutputType(typeof(InboundSourceSettings))]
    public sealed class SetReplySourceCommand : SetImapEndpointCmdlet<InboundSourceSettings>
    {
        /// <summary>Imap, Maildir or Directory.</summary>
        [Parameter]
        public SourceKind Kind { get; set; }

        /// <summary>Maildir or directory path.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Where handled messages are moved.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ProcessedFolder { get; set; }

        /// <summary>Where too-large messages are moved.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string RejectedFolder { get; set; }

        /// <summary>Where excluded auto-generated messages are kept.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ArchiveFolder { get; set; }

        /// <inheritdoc />
        protected override string SectionName => "inbound source";

        /// <inheritdoc />
        protected override string FieldName => "source";

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            if (Path != null)
                Path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        }

        /// <inheritdoc />
        protected override InboundSourceSettings Section(ReplyAdminConfiguration configuration) =>
            configuration.Source ?? (configuration.Source = new InboundSourceSettings());
    }

    /// <summary>
    /// Gets the SMTP relay that forwards leave through.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplySmtpRelay")]
    [OutputType(typeof(SmtpRelaySettings))]
    public sealed class GetReplySmtpRelayCommand : GetSettingsCmdlet<SmtpRelaySettings>
    {
        /// <inheritdoc />
        protected override SmtpRelaySettings Section(ReplyAdminConfiguration configuration) => configuration.SmtpRelay;

        /// <inheritdoc />
        protected override string NotConfiguredErrorId => ErrorIds.SmtpRelayNotConfigured;

        /// <inheritdoc />
        protected override string SectionName => "SMTP relay";

        /// <inheritdoc />
        protected override string ConfigureWith => "Set-ReplySmtpRelay";
    }

    /// <summary>
    /// Sets the SMTP relay that forwards leave through.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplySmtpRelay", SupportsShouldProcess = true)]
    [OutputType(typeof(SmtpRelaySettings))]
    public sealed class SetReplySmtpRelayCommand : SetServerSettingsCmdlet<SmtpRelaySettings>
    {
        /// <summary>Relay host.</summary>
        [Parameter]
        [Alias("HostName", "ComputerName")]
        [ValidateNotNullOrEmpty]
        public string Server { get; set; }

        /// <summary>Relay port.</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>StartTls, Implicit, or None (loopback only).</summary>
        [Parameter]
        public SmtpTlsMode TlsMode { get; set; }

        /// <summary>Login name, if the relay needs one.</summary>
        [Parameter]
        [AllowEmptyString]
        public string UserName { get; set; }

        /// <summary>Where the password is kept.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string CredentialReference { get; set; }

        /// <summary>Envelope sender of forwards.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string EnvelopeSender { get; set; }

        /// <summary>Thumbprint of a self-signed certificate to accept.</summary>
        [Parameter]
        [AllowEmptyString]
        public string CertificateThumbprint { get; set; }

        /// <summary>Domain the relay signs forwards with (DKIM d=, ARC sealer); empty stops signing.</summary>
        [Parameter]
        [AllowEmptyString]
        public string DkimDomain { get; set; }

        /// <summary>Selector the public key is published under (&lt;selector&gt;._domainkey.&lt;domain&gt;).</summary>
        [Parameter]
        [AllowEmptyString]
        public string DkimSelector { get; set; }

        /// <summary>Where the private signing key (PEM, RSA or Ed25519) is kept: env:, file: (owner-only) or secret:.</summary>
        [Parameter]
        [AllowEmptyString]
        public string DkimKeyReference { get; set; }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            // Empty strings clear signing; a new key is read now, so a wrong file is found while the administrator is here,
            // not in the night's run. Only the reference is stored; the key is dropped at once.
            foreach (var name in new[] { nameof(DkimDomain), nameof(DkimSelector), nameof(DkimKeyReference) })
                if (MyInvocation.BoundParameters.ContainsKey(name) && string.IsNullOrEmpty((string)GetType().GetProperty(name).GetValue(this)))
                    GetType().GetProperty(name).SetValue(this, null);
            if (!string.IsNullOrEmpty(DkimKeyReference))
                Invoke(() =>
                {
                    var material = CredentialResolver.ResolveMaterial(DkimKeyReference, "smtpRelay.dkimKeyReference", "DKIM signing key");
                    try { return RelaySigner.Create(DkimDomain ?? "example.invalid", DkimSelector ?? "selector", material, DkimKeyReference); }
                    finally { Array.Clear(material, 0, material.Length); }
                });
        }

        /// <inheritdoc />
        protected override string SectionName => "SMTP relay";

        /// <inheritdoc />
        protected override string FieldName => "smtpRelay";

        /// <inheritdoc />
        protected override SmtpRelaySettings Section(ReplyAdminConfiguration configuration) =>
            configuration.SmtpRelay ?? (configuration.SmtpRelay = new SmtpRelaySettings());
    }
}
