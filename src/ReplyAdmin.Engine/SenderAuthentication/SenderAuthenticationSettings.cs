using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>How inbound replies are verified (DKIM, ARC, DMARC) before they are forwarded; null in the file means the defaults.</summary>
    public sealed class SenderAuthenticationSettings
    {
        /// <summary>The default time limit of one DNS query attempt.</summary>
        public const int DefaultDnsTimeoutSeconds = 3;

        /// <summary>
        /// The authserv-id our own MTA writes in <c>Authentication-Results</c>; only such a field is trusted (a sender can
        /// write any other). Null: no Authentication-Results field is trusted, only ReplyAdmin's own DKIM verification counts.
        /// </summary>
        public string AuthservId { get; set; }

        /// <summary>DNS servers ("address" or "address:port"); empty for the system's resolvers.</summary>
        public List<string> DnsServers { get; set; } = new List<string>();

        /// <summary>Time limit of one DNS query attempt, in seconds (one retry follows).</summary>
        public int DnsTimeoutSeconds { get; set; } = DefaultDnsTimeoutSeconds;

        /// <summary>
        /// Also verify replies that are only stored (not forwarded), so a spoofed one is marked <c>$Phishing</c> for staff;
        /// off by default (one DNS lookup or more per reply).
        /// </summary>
        public bool VerifyStoredReplies { get; set; }

        /// <summary>A Public Suffix List file; null for Debian's file (when present) or the built-in fallback.</summary>
        public string PublicSuffixListPath { get; set; }

        /// <summary>A copy.</summary>
        public SenderAuthenticationSettings Clone()
        {
            var copy = (SenderAuthenticationSettings)MemberwiseClone();
            copy.DnsServers = new List<string>(DnsServers ?? new List<string>());
            return copy;
        }

        private static readonly Regex AuthservIdPattern = new Regex(@"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$", RegexOptions.CultureInvariant);

        /// <summary>Validates the settings.</summary>
        /// <exception cref="ConfigurationException">A field is invalid.</exception>
        public static void Validate(SenderAuthenticationSettings settings, string field)
        {
            if (settings == null) return;
            if (settings.AuthservId != null && !AuthservIdPattern.IsMatch(settings.AuthservId))
                throw new ConfigurationException(ErrorIds.AuthservIdInvalid, field + ".authservId",
                    $"'{ConfigurationValidator.Printable(settings.AuthservId)}' is not an authserv-id: use a host-name-like token (letters, digits, '.', '-').",
                    settings.AuthservId, "Copy it from an Authentication-Results header your MTA wrote (the part before the first ';').");
            var servers = settings.DnsServers ?? new List<string>();
            for (var i = 0; i < servers.Count; i++)
            {
                try { DnsTxtResolver.ParseServer(servers[i]); }
                catch (ArgumentException)
                {
                    throw new ConfigurationException(ErrorIds.DnsServerInvalid, $"{field}.dnsServers[{i}]",
                        $"'{ConfigurationValidator.Printable(servers[i])}' is not a DNS server address.", servers[i],
                        "Give an IP address with an optional port (192.0.2.53, 127.0.0.1:5353, [2001:db8::53]:53), or none for the system's resolvers.");
                }
            }
            if (settings.PublicSuffixListPath != null && !System.IO.File.Exists(settings.PublicSuffixListPath))
                throw new ConfigurationException(ErrorIds.PublicSuffixListNotFound, field + ".publicSuffixListPath",
                    $"'{ConfigurationValidator.Printable(settings.PublicSuffixListPath)}' does not exist.", settings.PublicSuffixListPath,
                    "Give the path of a public_suffix_list.dat (Debian: apt-get install publicsuffix), or none for the default.");
            if (settings.DnsTimeoutSeconds < 1 || settings.DnsTimeoutSeconds > 60)
                throw new ConfigurationException(ErrorIds.DnsTimeoutOutOfRange, field + ".dnsTimeoutSeconds",
                    $"{settings.DnsTimeoutSeconds} s is out of range (1 to 60).", settings.DnsTimeoutSeconds, $"The default is {DefaultDnsTimeoutSeconds} s.");
        }
    }
}
