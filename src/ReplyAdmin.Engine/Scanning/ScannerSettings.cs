using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// Which content scanners check replies before they are stored or forwarded. Any combination may be set; none
    /// set means no scanning. Holds no secrets: rspamd's scan port and clamd need no password.
    /// </summary>
    public sealed class ScannerSettings
    {
        /// <summary>Default time limit of one scan.</summary>
        public const int DefaultTimeoutSeconds = 30;

        /// <summary>rspamd's normal worker or proxy, e.g. <c>http://127.0.0.1:11333</c>; plain HTTP only on loopback. Null: rspamd not used.</summary>
        public string RspamdUrl { get; set; }

        /// <summary>clamd: <c>tcp://host:3310</c> or <c>unix:/run/clamav/clamd.ctl</c>. Null: clamd not used.</summary>
        public string ClamdAddress { get; set; }

        /// <summary>Read the verdict our MTA wrote into the message (X-Spam-*, Authentication-Results) instead of, or besides, scanning.</summary>
        public bool TrustMtaHeaders { get; set; }

        /// <summary>The authserv-id our MTA writes in Authentication-Results (required with <see cref="TrustMtaHeaders"/>).</summary>
        public string AuthservId { get; set; }

        /// <summary>Host names or IP addresses of our own relays, whose Received lines are skipped to find the client (loopback is always skipped).</summary>
        public string[] TrustedRelays { get; set; }

        /// <summary>Time limit of one scan, in seconds.</summary>
        public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

        /// <summary>True when at least one scanner is configured.</summary>
        public bool Enabled => RspamdUrl != null || ClamdAddress != null || TrustMtaHeaders;

        /// <summary>The configured scanners, in the order they run (clamd first: a virus decides everything).</summary>
        /// <exception cref="ConfigurationException">A setting is invalid.</exception>
        public IReadOnlyList<IContentScanner> CreateScanners()
        {
            ScannerSettingsValidator.Validate(this, "scanner");
            var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
            var scanners = new List<IContentScanner>();
            if (ClamdAddress != null) scanners.Add(new ClamdScanner(ClamdAddress, timeout));
            if (RspamdUrl != null) scanners.Add(new RspamdScanner(new Uri(RspamdUrl.TrimEnd('/') + "/"), timeout));
            if (TrustMtaHeaders) scanners.Add(new HeaderTrustScanner(AuthservId));
            return scanners;
        }
    }

    /// <summary>The rules of <see cref="ScannerSettings"/> and <see cref="ScanPolicy"/>, each failure with its own ErrorId.</summary>
    public static class ScannerSettingsValidator
    {
        private static readonly Regex AuthservIdPattern = new Regex(@"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$", RegexOptions.CultureInvariant);

        /// <summary>Validates the scanner settings.</summary>
        /// <exception cref="ConfigurationException">A field is invalid.</exception>
        public static void Validate(ScannerSettings settings, string field)
        {
            if (settings == null) return;
            if (settings.RspamdUrl != null)
            {
                if (!Uri.TryCreate(settings.RspamdUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")
                    || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                {
                    // A URL with user information may carry a password: never repeat it.
                    var shown = uri != null && !string.IsNullOrEmpty(uri.UserInfo) ? "the URL (with user information, not shown)" : $"'{ConfigurationValidator.Printable(settings.RspamdUrl)}'";
                    throw new ConfigurationException(ErrorIds.RspamdUrlInvalid, field + ".rspamdUrl",
                        $"{shown} is not an rspamd address: give http://host:port (no user, query or fragment).",
                        uri != null && !string.IsNullOrEmpty(uri.UserInfo) ? (object)uri.Host : settings.RspamdUrl, "rspamd's normal worker listens on http://127.0.0.1:11333 by default.");
                }
                if (uri.Scheme == "http" && !IsLoopback(uri.Host))
                    throw new ConfigurationException(ErrorIds.RspamdUrlInsecure, field + ".rspamdUrl",
                        $"plain HTTP would send every reply unencrypted to '{uri.Host}'; it is allowed only on the loopback interface.", settings.RspamdUrl,
                        "Run rspamd (or its proxy worker) on this host, or put an HTTPS proxy in front of it and give https://.",
                        kind: ReplyAdminErrorKind.SecurityError);
            }
            if (settings.ClamdAddress != null)
            {
                try
                {
                    ClamdScanner.ParseAddress(settings.ClamdAddress, out _);
                }
                catch (ArgumentException e)
                {
                    throw new ConfigurationException(ErrorIds.ClamdAddressInvalid, field + ".clamdAddress", e.Message.Split(new[] { " (Parameter" }, StringSplitOptions.None)[0],
                        settings.ClamdAddress, "Give clamd's TCPSocket as tcp://127.0.0.1:3310 or its LocalSocket as unix:/run/clamav/clamd.ctl.");
                }
            }
            if (settings.TrustMtaHeaders && string.IsNullOrWhiteSpace(settings.AuthservId))
                throw new ConfigurationException(ErrorIds.AuthservIdRequired, field + ".authservId",
                    "trusting the MTA's verdict headers needs the authserv-id our MTA writes in Authentication-Results.", null,
                    "Give -AuthservId with the name your MTA uses (often its host name, e.g. mx.example.net).");
            if (settings.AuthservId != null && !AuthservIdPattern.IsMatch(settings.AuthservId))
                throw new ConfigurationException(ErrorIds.AuthservIdInvalid, field + ".authservId",
                    $"'{ConfigurationValidator.Printable(settings.AuthservId)}' is not an authserv-id: use a host-name-like token (letters, digits, '.', '-').",
                    settings.AuthservId, "Copy it from an Authentication-Results header your MTA wrote (the part before the first ';').");
            var relays = settings.TrustedRelays ?? new string[0];
            for (var i = 0; i < relays.Length; i++)
                if (string.IsNullOrWhiteSpace(relays[i]) || Uri.CheckHostName(relays[i].Trim()) == UriHostNameType.Unknown)
                    throw new ConfigurationException(ErrorIds.TrustedRelayInvalid, $"{field}.trustedRelays[{i}]",
                        $"'{ConfigurationValidator.Printable(relays[i])}' is not a host name or IP address.", relays[i],
                        "Give the host names or IP addresses of your own MTAs as they appear in Received lines.");
            if (settings.TimeoutSeconds < 1 || settings.TimeoutSeconds > 600)
                throw new ConfigurationException(ErrorIds.ScannerTimeoutOutOfRange, field + ".timeoutSeconds",
                    $"{settings.TimeoutSeconds} s is out of range (1 to 600).", settings.TimeoutSeconds, $"The default is {ScannerSettings.DefaultTimeoutSeconds} s.");
        }

        /// <summary>Validates a list's scan policy.</summary>
        /// <exception cref="ConfigurationException">A field is invalid.</exception>
        public static void ValidatePolicy(ScanPolicy policy, string field)
        {
            if (policy == null) return;
            if (!Enum.IsDefined(typeof(ScanFailureMode), policy.OnScannerFailure))
                throw new ConfigurationException(ErrorIds.ScanFailureModeInvalid, field + ".onScannerFailure", $"'{policy.OnScannerFailure}' is not a failure mode.",
                    policy.OnScannerFailure, "Use FailClosed (keep the reply at the source until it is scanned) or FailOpen (store it unscanned).");
        }

        private static bool IsLoopback(string host) =>
            string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
