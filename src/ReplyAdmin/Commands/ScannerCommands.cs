using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Scanning;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Gets the content scanners (rspamd, clamd, trusted MTA headers) replies are checked with.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyScanner")]
    [OutputType(typeof(ScannerSettings))]
    public sealed class GetReplyScannerCommand : GetSettingsCmdlet<ScannerSettings>
    {
        /// <inheritdoc />
        protected override ScannerSettings Section(ReplyAdminConfiguration configuration) => configuration.Scanner;

        /// <inheritdoc />
        protected override string NotConfiguredErrorId => ErrorIds.ScannerNotConfigured;

        /// <inheritdoc />
        protected override string SectionName => "content scanner";

        /// <inheritdoc />
        protected override string ConfigureWith => "Set-ReplyScanner -RspamdUrl, -ClamdAddress or -TrustMtaHeaders -AuthservId";
    }

    /// <summary>
    /// Sets the content scanners replies are checked with before they are stored or forwarded.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplyScanner", SupportsShouldProcess = true)]
    [OutputType(typeof(ScannerSettings))]
    public sealed class SetReplyScannerCommand : SetSettingsCmdlet<ScannerSettings>
    {
        /// <summary>rspamd's normal worker, e.g. http://127.0.0.1:11333; an empty string turns rspamd off.</summary>
        [Parameter]
        [AllowEmptyString]
        public string RspamdUrl { get; set; }

        /// <summary>clamd: tcp://host:3310 or unix:/run/clamav/clamd.ctl; an empty string turns clamd off.</summary>
        [Parameter]
        [AllowEmptyString]
        public string ClamdAddress { get; set; }

        /// <summary>Read the verdict headers the MTA wrote (above the trusted Received line, of our authserv-id).</summary>
        [Parameter]
        public SwitchParameter TrustMtaHeaders { get; set; }

        /// <summary>The authserv-id our MTA writes in Authentication-Results.</summary>
        [Parameter]
        [AllowEmptyString]
        public string AuthservId { get; set; }

        /// <summary>Host names or IP addresses of our own relays, whose Received lines are skipped.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[] TrustedRelays { get; set; }

        /// <summary>Time limit of one scan, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 600)]
        public int TimeoutSeconds { get; set; }

        /// <inheritdoc />
        protected override string SectionName => "content scanner";

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            // An empty value removes the setting.
            if (RspamdUrl == string.Empty) RspamdUrl = null;
            if (ClamdAddress == string.Empty) ClamdAddress = null;
            if (AuthservId == string.Empty) AuthservId = null;
            if (TrustedRelays != null && TrustedRelays.Length == 0) TrustedRelays = null;
        }

        /// <inheritdoc />
        protected override ScannerSettings Section(ReplyAdminConfiguration configuration) =>
            configuration.Scanner ?? (configuration.Scanner = new ScannerSettings());
    }

    /// <summary>
    /// Tests the content scanners: reachable, version, and test scans with GTUBE and EICAR built in memory.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "ReplyScanner", DefaultParameterSetName = ConfiguredSet)]
    [OutputType(typeof(ScannerTestReport))]
    [OutputType(typeof(bool))]
    public sealed class TestReplyScannerCommand : ReplyAdminCmdlet
    {
        private const string ConfiguredSet = "Configured";
        private const string ExplicitSet = "Explicit";

        /// <summary>Only these configured scanners (rspamd, clamd, mta-headers).</summary>
        [Parameter(ParameterSetName = ConfiguredSet, Position = 0)]
        [ValidateSet("rspamd", "clamd", "mta-headers", IgnoreCase = true)]
        public string[] Scanner { get; set; }

        /// <summary>An rspamd to test instead of the configured scanners.</summary>
        [Parameter(ParameterSetName = ExplicitSet)]
        [ValidateNotNullOrEmpty]
        public string RspamdUrl { get; set; }

        /// <summary>A clamd to test instead of the configured scanners.</summary>
        [Parameter(ParameterSetName = ExplicitSet)]
        [ValidateNotNullOrEmpty]
        public string ClamdAddress { get; set; }

        /// <summary>Time limit of each scan, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 600)]
        public int TimeoutSeconds { get; set; } = 10;

        /// <summary>Return only $true (every scanner passed) or $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            ScannerSettings settings;
            if (ParameterSetName == ExplicitSet)
            {
                if (RspamdUrl == null && ClamdAddress == null)
                {
                    ThrowTerminatingError(Error(ErrorIds.ScannerNotGiven, ReplyAdminErrorKind.InvalidArgument, "Give -RspamdUrl, -ClamdAddress or both.", null,
                        "Or run Test-ReplyScanner without them to test the configured scanners."));
                    return;
                }
                settings = new ScannerSettings { RspamdUrl = RspamdUrl, ClamdAddress = ClamdAddress };
            }
            else
            {
                var configured = LoadConfiguration().Scanner;
                if (configured == null || !configured.Enabled)
                {
                    ThrowTerminatingError(Error(ErrorIds.ScannerNotConfigured, ReplyAdminErrorKind.ObjectNotFound, $"No content scanner is configured in {ResolvedConfigPath}.",
                        ResolvedConfigPath, "Configure one with Set-ReplyScanner -RspamdUrl, -ClamdAddress or -TrustMtaHeaders -AuthservId."));
                    return;
                }
                settings = new ScannerSettings
                {
                    RspamdUrl = configured.RspamdUrl,
                    ClamdAddress = configured.ClamdAddress,
                    TrustMtaHeaders = configured.TrustMtaHeaders,
                    AuthservId = configured.AuthservId,
                };
            }
            settings.TimeoutSeconds = TimeoutSeconds;
            var scanners = Invoke(() => settings.CreateScanners())
                .Where(s => Scanner == null || Scanner.Contains(s.Name, StringComparer.OrdinalIgnoreCase)).ToList();
            var all = true;
            try
            {
                foreach (var scanner in scanners)
                {
                    WriteVerbose($"Testing {scanner.Name} at {scanner.Address}: version, then a plain reply, GTUBE and EICAR (built in memory).");
                    var report = Invoke(token => ScannerTester.TestAsync(scanner, token));
                    all &= report.Succeeded;
                    foreach (var verdict in new[] { report.CleanVerdict, report.GtubeVerdict, report.EicarVerdict }.Where(v => v != null))
                        WriteVerbose(verdict.Summary);
                    if (Quiet) continue;
                    WriteObject(report);
                    if (!report.Succeeded)
                        WriteEngineError(report.Error);
                }
            }
            finally
            {
                foreach (var scanner in scanners.OfType<IDisposable>()) scanner.Dispose();
            }
            if (Quiet) WriteObject(all);
        }
    }
}
