using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using MimeKit;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// What the receiving MTA knew about a message and a scanner needs in order to score it as that MTA would:
    /// envelope sender and recipients, and the client IP, HELO and host name from the topmost trusted
    /// <c>Received</c> line. Build it with <see cref="FromHeaders"/>.
    /// </summary>
    public sealed class ScanEnvelope
    {
        /// <summary>Envelope sender (MAIL FROM; the Return-Path header once delivered). Empty for bounces.</summary>
        public string Sender { get; set; }

        /// <summary>Envelope recipients (the list addresses the message was delivered for).</summary>
        public IReadOnlyList<string> Recipients { get; set; } = Array.Empty<string>();

        /// <summary>IP address of the client that handed the message to our MTA; null when not known.</summary>
        public IPAddress ClientIp { get; set; }

        /// <summary>The HELO/EHLO name that client gave.</summary>
        public string Helo { get; set; }

        /// <summary>The client's host name as our MTA resolved it (null for "unknown").</summary>
        public string ClientHostname { get; set; }

        /// <summary>An identifier for the scanner's log (the source message id or the Message-ID).</summary>
        public string QueueId { get; set; }

        /// <summary>
        /// How many header fields, from the top, were written by our own MTAs: the fields above the trusted
        /// <c>Received</c> line and that line itself. Only these are trusted in trusted-header mode; 0 when no
        /// trusted line was found.
        /// </summary>
        public int TrustedHeaderCount { get; set; }

        /// <summary>The trusted <c>Received</c> line, unfolded; null when none was found.</summary>
        public string TrustedReceived { get; set; }

        /// <summary>
        /// Builds the envelope from a message's top-level headers. The trusted <c>Received</c> line is the topmost
        /// one whose client is not one of ours: hops from loopback (LMTP, content filters) and from
        /// <paramref name="trustedRelays"/> (host names or IP addresses of our own MTAs) are skipped. Lines below it
        /// may be forged by the sender and are never used.
        /// </summary>
        /// <param name="headers">The message's top-level headers, in order.</param>
        /// <param name="recipients">The envelope recipients (list addresses); null to read none.</param>
        /// <param name="trustedRelays">Our own relays; null or empty for loopback only.</param>
        /// <param name="queueId">An identifier for the scanner's log.</param>
        /// <exception cref="ArgumentNullException"><paramref name="headers"/> is null.</exception>
        public static ScanEnvelope FromHeaders(HeaderList headers, IEnumerable<string> recipients, IEnumerable<string> trustedRelays = null, string queueId = null)
        {
            if (headers == null) throw new ArgumentNullException(nameof(headers));
            var relays = new HashSet<string>((trustedRelays ?? Enumerable.Empty<string>()).Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r.Trim()),
                StringComparer.OrdinalIgnoreCase);
            var envelope = new ScanEnvelope
            {
                Recipients = (recipients ?? Enumerable.Empty<string>()).Where(r => !string.IsNullOrEmpty(r)).ToList(),
                QueueId = queueId ?? headers[HeaderId.MessageId]?.Trim(),
            };
            var returnPath = headers[HeaderId.ReturnPath];
            if (returnPath != null)
                envelope.Sender = returnPath.Trim().Trim('<', '>').Trim();

            for (var i = 0; i < headers.Count; i++)
            {
                if (headers[i].Id != HeaderId.Received) continue;
                var hop = ReceivedHop.Parse(Unfold(headers[i].Value));
                if (hop.ClientIp == null)
                    break; // a line we cannot read: stop rather than trust what is below it
                if (IPAddress.IsLoopback(hop.ClientIp) || relays.Contains(hop.ClientIp.ToString())
                    || (hop.ClientHostname != null && relays.Contains(hop.ClientHostname)) || (hop.Helo != null && relays.Contains(hop.Helo) && IsPrivate(hop.ClientIp)))
                    continue;
                envelope.ClientIp = hop.ClientIp;
                envelope.Helo = hop.Helo;
                envelope.ClientHostname = hop.ClientHostname;
                envelope.TrustedHeaderCount = i + 1;
                envelope.TrustedReceived = Unfold(headers[i].Value);
                break;
            }
            return envelope;
        }

        private static bool IsPrivate(IPAddress ip)
        {
            var b = ip.GetAddressBytes();
            if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168);
            return (b[0] & 0xFE) == 0xFC; // unique local fc00::/7
        }

        internal static string Unfold(string value) => Regex.Replace(value ?? "", @"\r?\n[ \t]*", " ").Trim();

        /// <summary>The parts of one <c>Received</c> line a scanner needs.</summary>
        internal sealed class ReceivedHop
        {
            // Postfix, Sendmail, Exim and Dovecot write "from HELO (rdns [IP])" or "from HELO ([IP])"; Exim may add "helo=".
            private static readonly Regex FromPart = new Regex(
                @"^\s*from\s+(?<helo>\S+)\s*\((?:(?<host>[^\s\[\)]+)\s*)?\[(?:IPv6:)?(?<ip>[0-9A-Fa-f:.]+)\]",
                RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
            private static readonly Regex ByPart = new Regex(@"\bby\s+(?<by>[^\s;()]+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

            public IPAddress ClientIp;
            public string Helo;
            public string ClientHostname;
            public string By;

            public static ReceivedHop Parse(string value)
            {
                var hop = new ReceivedHop();
                var by = ByPart.Match(value);
                if (by.Success) hop.By = by.Groups["by"].Value;
                var from = FromPart.Match(value);
                if (from.Success && IPAddress.TryParse(from.Groups["ip"].Value, out var ip))
                {
                    hop.ClientIp = ip;
                    hop.Helo = from.Groups["helo"].Value;
                    var host = from.Groups["host"].Success ? from.Groups["host"].Value : null;
                    hop.ClientHostname = string.IsNullOrEmpty(host) || host.Equals("unknown", StringComparison.OrdinalIgnoreCase) ? null : host;
                }
                else if (value.StartsWith("by ", StringComparison.OrdinalIgnoreCase) || value.IndexOf("with LMTP", StringComparison.OrdinalIgnoreCase) >= 0
                    || value.IndexOf("(Postfix, from userid", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    hop.ClientIp = IPAddress.Loopback; // a local hop (pickup, LMTP without a client address) is ours
                }
                return hop;
            }
        }
    }
}
