using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.SenderAuthentication;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Gets how inbound replies' senders are verified (authserv-id, DNS servers, lookup timeout); the defaults when nothing is set.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplySenderAuthentication")]
    [OutputType(typeof(SenderAuthenticationSettings))]
    public sealed class GetReplySenderAuthenticationCommand : ReplyAdminCmdlet
    {
        /// <inheritdoc />
        protected override void EndProcessing() =>
            WriteObject(LoadConfiguration().SenderAuthentication?.Clone() ?? new SenderAuthenticationSettings());
    }

    /// <summary>
    /// Sets how inbound replies' senders are verified: our MTA's authserv-id, the DNS servers, the lookup timeout.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplySenderAuthentication", SupportsShouldProcess = true)]
    [OutputType(typeof(SenderAuthenticationSettings))]
    public sealed class SetReplySenderAuthenticationCommand : SetSettingsCmdlet<SenderAuthenticationSettings>
    {
        /// <summary>The authserv-id our MTA writes in Authentication-Results; an empty string trusts none.</summary>
        [Parameter]
        [AllowEmptyString]
        public string AuthservId { get; set; }

        /// <summary>DNS servers ("address" or "address:port"); an empty list uses the system's resolvers.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[] DnsServer { get; set; }

        /// <summary>Time limit of one DNS query attempt, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 60)]
        public int DnsTimeoutSeconds { get; set; }

        /// <summary>Also verify replies that are only stored, marking spoofed ones $Phishing.</summary>
        [Parameter]
        public SwitchParameter VerifyStoredReplies { get; set; }

        /// <summary>A Public Suffix List file; an empty string for the default.</summary>
        [Parameter]
        [AllowEmptyString]
        public string PublicSuffixListPath { get; set; }

        /// <inheritdoc />
        protected override string SectionName => "sender authentication";

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            if (AuthservId == string.Empty) AuthservId = null;
            if (PublicSuffixListPath == string.Empty) PublicSuffixListPath = null;
            else if (PublicSuffixListPath != null) PublicSuffixListPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(PublicSuffixListPath);
        }

        /// <inheritdoc />
        protected override IEnumerable<string> OtherChanges() =>
            MyInvocation.BoundParameters.ContainsKey(nameof(DnsServer)) ? new[] { nameof(DnsServer) } : Enumerable.Empty<string>();

        /// <inheritdoc />
        protected override void ApplyOtherChanges(SenderAuthenticationSettings section)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(DnsServer)))
                section.DnsServers = (DnsServer ?? new string[0]).Select(s => s.Trim()).ToList();
        }

        /// <inheritdoc />
        protected override SenderAuthenticationSettings Section(ReplyAdminConfiguration configuration) =>
            configuration.SenderAuthentication ?? (configuration.SenderAuthentication = new SenderAuthenticationSettings());
    }

    /// <summary>
    /// Verifies the sender of a message file (DKIM, ARC, DMARC, alignment) as a run would, and shows what forwarding it
    /// would do (unchanged, From rewritten, wrapped, or not forwarded). Nothing is stored or sent.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ReplySenderAuthentication")]
    [OutputType(typeof(SenderAuthenticationReport))]
    public sealed class TestReplySenderAuthenticationCommand : ReplyAdminCmdlet
    {
        /// <summary>Message files (.eml).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>The list whose forward mode applies; without it, Auto.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ListNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string ListName { get; set; }

        /// <summary>DNS servers to ask instead of the configured ones.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] DnsServer { get; set; }

        /// <summary>The mode to try instead of the list's.</summary>
        [Parameter]
        public ForwardMode ForwardMode { get; set; }

        private ReplyAdminConfiguration _configuration;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            // Without a configuration file the defaults apply: the cmdlet also serves before anything is configured.
            _configuration = System.IO.File.Exists(ResolvedConfigPath) ? LoadConfiguration() : new ReplyAdminConfiguration();
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var settings = _configuration.SenderAuthentication?.Clone() ?? new SenderAuthenticationSettings();
            if (DnsServer != null)
            {
                settings.DnsServers = DnsServer.ToList();
                try { SenderAuthenticationSettings.Validate(settings, "DnsServer"); }
                catch (ConfigurationException e) { ThrowTerminatingError(ToErrorRecord(e)); }
            }
            ReplyList list = null;
            if (ListName != null)
            {
                list = _configuration.Lists.FirstOrDefault(l => string.Equals(l.Name, ListName, StringComparison.OrdinalIgnoreCase))?.Clone();
                if (list == null) { ThrowTerminatingError(ToErrorRecord(ListSettings.NotFound(ListName, ResolvedConfigPath))); return; }
            }
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ForwardMode)))
            {
                list = list ?? new ReplyList { Name = "(list)" };
                list.ForwardMode = ForwardMode;
            }
            foreach (var pattern in Path)
            {
                IEnumerable<string> files;
                try { files = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _); }
                catch (ItemNotFoundException)
                {
                    WriteError(Error(ErrorIds.MessageFileNotFound, ReplyAdminErrorKind.ObjectNotFound, $"No message file matches '{pattern}'.", pattern, "Check the path."));
                    continue;
                }
                foreach (var file in files)
                {
                    try
                    {
                        WriteObject(SenderAuthenticationTester.TestAsync(file, settings, list, _configuration.SmtpRelay?.EnvelopeSender, StopToken).GetAwaiter().GetResult());
                    }
                    catch (ReplyAdminException e) { WriteEngineError(e); }
                    catch (OperationCanceledException) when (StopToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
                }
            }
        }
    }
}
