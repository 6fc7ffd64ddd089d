using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>What Test-ReplySenderAuthentication found for one message file: the verdicts and what a forward would do.</summary>
    public sealed class SenderAuthenticationReport
    {
        /// <summary>The file.</summary>
        public string Path { get; set; }
        /// <summary>The From field.</summary>
        public string From { get; set; }
        /// <summary>The Subject.</summary>
        public string Subject { get; set; }
        /// <summary>The verdicts.</summary>
        public SenderVerification Verification { get; set; }
        /// <summary>The list whose forward mode was applied; null for the default (Auto).</summary>
        public string List { get; set; }
        /// <summary>The list's configured mode.</summary>
        public ForwardMode ConfiguredMode { get; set; }
        /// <summary>What a forward would do: Unchanged, Rewrite, Wrap, or NotForwarded (spoofed: stored with $Phishing).</summary>
        public string Forward { get; set; }
        /// <summary>Why.</summary>
        public string ForwardReason { get; set; }
        /// <summary>The From the forward would carry.</summary>
        public string ForwardFrom { get; set; }
        /// <summary>The Reply-To the forward would carry.</summary>
        public string ForwardReplyTo { get; set; }
        /// <summary>DKIM verdict (shortcut of <see cref="Verification"/>).</summary>
        public string Dkim => Verification?.Dkim;
        /// <summary>ARC verdict.</summary>
        public string Arc => Verification?.Arc;
        /// <summary>DMARC verdict.</summary>
        public string Dmarc => Verification?.Dmarc;
        /// <summary>The From domain's policy.</summary>
        public string Policy => Verification?.Policy;
        /// <summary>True when an aligned DKIM signature verified.</summary>
        public bool Aligned => Verification?.Aligned == true;
        /// <summary>True when the reply would be marked $Phishing.</summary>
        public bool Spoofed => Verification?.Spoofed == true;
    }

    /// <summary>Runs the sender check on a message file, as a run would, without storing or sending anything.</summary>
    public static class SenderAuthenticationTester
    {
        /// <summary>Verifies the message at <paramref name="path"/> and says what forwarding it for <paramref name="list"/> would do.</summary>
        /// <exception cref="ReplyAdminException"><c>MessageFileUnreadable</c>: the file cannot be read or parsed.</exception>
        public static async Task<SenderAuthenticationReport> TestAsync(string path, SenderAuthenticationSettings settings, ReplyList list, string relayAddress, CancellationToken cancellationToken)
        {
            MimeMessage message;
            try
            {
                using (var stream = File.OpenRead(path))
                    message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException)
            {
                throw new ReplyAdminException(ErrorIds.MessageFileUnreadable, ReplyAdminErrorKind.ReadError, $"'{path}' cannot be read as a message: {e.Message}", path,
                    "Give a message file as saved by a mail client (.eml), with its header fields.", e);
            }
            var verification = await new SenderVerifier(settings).VerifyAsync(message, cancellationToken).ConfigureAwait(false);
            var report = new SenderAuthenticationReport
            {
                Path = path,
                From = message.Headers[HeaderId.From],
                Subject = message.Subject,
                Verification = verification,
                List = list?.Name,
                ConfiguredMode = list?.ForwardMode ?? ForwardMode.Auto,
            };
            if (verification.Spoofed && list?.ForwardUnauthenticated != true)
            {
                report.Forward = "NotForwarded";
                report.ForwardReason = "sender not authenticated (stored with $Phishing): " + verification.Reason;
                return report;
            }
            var plan = ForwardPlan.Decide(report.ConfiguredMode, verification, list?.Name ?? "(list)", relayAddress);
            report.Forward = plan.Mode.ToString();
            report.ForwardReason = plan.Reason;
            var forward = ForwardComposer.Compose(message, plan);
            report.ForwardFrom = forward.From.ToString();
            report.ForwardReplyTo = forward.ReplyTo.Count > 0 ? forward.ReplyTo.ToString() : null;
            return report;
        }
    }
}
