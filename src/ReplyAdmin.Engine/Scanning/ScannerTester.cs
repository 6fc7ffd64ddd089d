using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>The result of testing one scanner: reachable, version, and what it said to the GTUBE and EICAR test messages.</summary>
    public sealed class ScannerTestReport
    {
        /// <summary>rspamd, clamd or mta-headers.</summary>
        public string Scanner { get; set; }
        /// <summary>Where it was reached.</summary>
        public string Address { get; set; }
        /// <summary>True when it answered.</summary>
        public bool Reachable { get; set; }
        /// <summary>Its version.</summary>
        public string Version { get; set; }
        /// <summary>Its verdict on a plain test reply.</summary>
        public ScanVerdict CleanVerdict { get; set; }
        /// <summary>Its verdict on a message with the GTUBE spam test string.</summary>
        public ScanVerdict GtubeVerdict { get; set; }
        /// <summary>Its verdict on a message with the EICAR anti-virus test file attached.</summary>
        public ScanVerdict EicarVerdict { get; set; }
        /// <summary>True when reachable and the test message it must recognize was recognized (rspamd: GTUBE as spam; clamd: EICAR as a virus).</summary>
        public bool Succeeded { get; set; }
        /// <summary>Why it failed, if it did.</summary>
        public string FailureReason { get; set; }
        /// <summary>ErrorId of the failure.</summary>
        public string FailureErrorId { get; set; }
        /// <summary>What to do about the failure.</summary>
        public string RecommendedAction { get; set; }
        /// <summary>Total time of the test.</summary>
        public TimeSpan Elapsed { get; set; }
        /// <summary>The failure as an engine error, for the cmdlet; null on success.</summary>
        public ReplyAdminException Error { get; set; }
    }

    /// <summary>Tests scanners with standard test messages built in memory (never stored as files an anti-virus would flag).</summary>
    public static class ScannerTester
    {
        /// <summary>The GTUBE spam test string, built from pieces so this assembly does not itself look like spam.</summary>
        public static string Gtube => "XJS*C4JDBQADN1.NSBN3*2IDNEN*" + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

        /// <summary>The 68-byte EICAR anti-virus test file, built from pieces so no file in the repository or module is flagged.</summary>
        public static byte[] EicarBytes() => Encoding.ASCII.GetBytes(@"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-" + "ANTIVIRUS-TEST-FILE!$H+H*");

        /// <summary>A plain reply, as a test message.</summary>
        public static byte[] CleanMessage() => Message("Re: Your newsletter", "Thank you for the newsletter. Could you send me the price list for next year?\r\n\r\nBest regards\r\nErika", null);

        /// <summary>A message with the GTUBE string in its body.</summary>
        public static byte[] GtubeMessage() => Message("Re: Your newsletter (GTUBE test)", "This is the GTUBE spam test:\r\n\r\n" + Gtube + "\r\n", null);

        /// <summary>A message with the EICAR test file attached (base64).</summary>
        public static byte[] EicarMessage() => Message("Re: Your newsletter (EICAR test)", "The attachment is the EICAR anti-virus test file.\r\n", EicarBytes());

        private static byte[] Message(string subject, string body, byte[] attachment)
        {
            var id = Guid.NewGuid().ToString("N");
            var text = new StringBuilder();
            text.Append("Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n\tby mx.example.net with ESMTPS id " + id.Substring(0, 10) + "\r\n\tfor <list@example.net>; " + DateTimeOffset.UtcNow.ToString("r") + "\r\n");
            text.Append("From: Erika Mustermann <erika@example.org>\r\nTo: list@example.net\r\n");
            text.Append($"Subject: {subject}\r\nDate: {DateTimeOffset.UtcNow:r}\r\nMessage-ID: <{id}@example.org>\r\nMIME-Version: 1.0\r\n");
            if (attachment == null)
            {
                text.Append("Content-Type: text/plain; charset=us-ascii\r\n\r\n").Append(body);
            }
            else
            {
                text.Append("Content-Type: multipart/mixed; boundary=\"b" + id + "\"\r\n\r\n");
                text.Append("--b" + id + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body + "\r\n");
                text.Append("--b" + id + "\r\nContent-Type: application/octet-stream; name=\"eicar.com\"\r\nContent-Disposition: attachment; filename=\"eicar.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
                text.Append(Convert.ToBase64String(attachment, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--b" + id + "--\r\n");
            }
            return Encoding.ASCII.GetBytes(text.ToString());
        }

        /// <summary>Tests one scanner: version, then the clean, GTUBE and EICAR messages.</summary>
        /// <param name="scanner">The scanner.</param>
        /// <param name="cancellationToken">Cancels the test.</param>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static async Task<ScannerTestReport> TestAsync(IContentScanner scanner, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            var report = new ScannerTestReport { Scanner = scanner.Name, Address = scanner.Address };
            try
            {
                report.Version = await scanner.GetVersionAsync(cancellationToken).ConfigureAwait(false);
                report.Reachable = true;
            }
            catch (ScannerUnavailableException e)
            {
                report.Error = e;
                report.FailureReason = e.Message;
                report.FailureErrorId = e.ErrorId;
                report.RecommendedAction = e.RecommendedAction;
                report.Elapsed = watch.Elapsed;
                return report;
            }
            if (scanner is HeaderTrustScanner)
            {
                // Nothing to send anything to: the MTA's headers are read from each message.
                report.Succeeded = true;
                report.Elapsed = watch.Elapsed;
                return report;
            }
            var envelope = new ScanEnvelope
            {
                Sender = "erika@example.org",
                Recipients = new[] { "list@example.net" },
                ClientIp = IPAddressOf("192.0.2.10"),
                Helo = "mail.example.org",
                QueueId = "ReplyAdmin-Test",
            };
            report.CleanVerdict = await ScanBytes(scanner, CleanMessage(), envelope, cancellationToken).ConfigureAwait(false);
            report.GtubeVerdict = await ScanBytes(scanner, GtubeMessage(), envelope, cancellationToken).ConfigureAwait(false);
            report.EicarVerdict = await ScanBytes(scanner, EicarMessage(), envelope, cancellationToken).ConfigureAwait(false);
            report.Elapsed = watch.Elapsed;

            if (scanner is ClamdScanner && report.EicarVerdict.Kind != ScanVerdictKind.Virus)
                Fail(report, ErrorIds.ClamdEicarNotDetected, $"clamd did not recognize the EICAR test file ({report.EicarVerdict.Summary}).",
                    "clamd has no signature for EICAR: check that its database is loaded (freshclam, or a local .hdb/.ndb).");
            else if (scanner is RspamdScanner && report.GtubeVerdict.Kind != ScanVerdictKind.Spam)
                Fail(report, ErrorIds.RspamdGtubeNotDetected, $"rspamd did not classify the GTUBE test message as spam ({report.GtubeVerdict.Summary}).",
                    "Check that the URL points at rspamd's normal worker or proxy and that GTUBE is not disabled (gtube_patterns).");
            else if (report.CleanVerdict.Kind != ScanVerdictKind.Clean && report.CleanVerdict.Kind != ScanVerdictKind.Spam)
                Fail(report, ErrorIds.ScannerTestScanFailed, $"{scanner.Name} could not scan a plain test reply ({report.CleanVerdict.Summary}).",
                    "See the scanner's log.");
            else
                report.Succeeded = true;
            return report;
        }

        private static void Fail(ScannerTestReport report, string errorId, string message, string action)
        {
            report.FailureErrorId = errorId;
            report.FailureReason = message;
            report.RecommendedAction = action;
            report.Error = new ReplyAdminException(errorId, ReplyAdminErrorKind.InvalidData, message, report.Address, action);
        }

        private static System.Net.IPAddress IPAddressOf(string text) => System.Net.IPAddress.Parse(text);

        private static async Task<ScanVerdict> ScanBytes(IContentScanner scanner, byte[] message, ScanEnvelope envelope, CancellationToken token)
        {
            using (var stream = new MemoryStream(message, writable: false))
                return await scanner.ScanAsync(stream, envelope, token).ConfigureAwait(false);
        }
    }
}
