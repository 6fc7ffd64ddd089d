using System;
using System.Collections.Generic;
using System.Linq;
using MimeKit;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// The short message stored in the shared folder in place of a quarantined (virus) or unscannable reply, so
    /// staff know a customer wrote without opening what was found. It quotes no content of the original.
    /// </summary>
    public static class QuarantineNotice
    {
        /// <summary>Subject prefix of a notice about a quarantined reply.</summary>
        public const string SubjectPrefix = "[ReplyAdmin] Reply quarantined (virus): ";

        /// <summary>Builds the notice.</summary>
        /// <param name="headers">The original's top-level headers (From, Subject, Date, Message-ID are quoted).</param>
        /// <param name="lists">The lists it was addressed to (may be empty).</param>
        /// <param name="decision">The scan decision (Quarantine or Reject).</param>
        /// <param name="size">The original's size in bytes.</param>
        /// <param name="quarantineFolder">Where the original is kept at the source, named in the text.</param>
        /// <exception cref="ArgumentNullException"><paramref name="headers"/> or <paramref name="decision"/> is null.</exception>
        public static MimeMessage Create(HeaderList headers, IReadOnlyList<ReplyList> lists, ScanDecision decision, long size, string quarantineFolder)
        {
            if (headers == null) throw new ArgumentNullException(nameof(headers));
            if (decision == null) throw new ArgumentNullException(nameof(decision));
            lists = lists ?? Array.Empty<ReplyList>();
            var from = Clean(headers[HeaderId.From]) ?? "(unknown)";
            var subject = Clean(headers[HeaderId.Subject]) ?? "(no subject)";
            var notice = new MimeMessage();
            notice.From.Add(new MailboxAddress("ReplyAdmin", "replyadmin@replyadmin.invalid"));
            if (lists.Count > 0)
                foreach (var list in lists) notice.To.Add(MailboxAddress.Parse(list.Address));
            else
                notice.To.Add(new MailboxAddress("ReplyAdmin", "replyadmin@replyadmin.invalid"));
            // Reply-To is deliberately not the sender: a virus sender's address is often forged.
            var virus = decision.Outcome == ScanOutcome.Quarantine;
            notice.Subject = (virus ? SubjectPrefix : "[ReplyAdmin] Reply not stored (not scannable): ") + Shorten(subject, 120);
            notice.Date = DateTimeOffset.UtcNow;
            notice.Body = new TextPart("plain")
            {
                Text = string.Join("\r\n", new[]
                {
                    virus ? "A reply contained a virus and was not stored in this folder. Do not ask the sender to send it again." : "A reply could not be scanned and was not stored in this folder.",
                    "",
                    $"Found:    {(virus ? decision.VirusName : "-")}",
                    $"Reason:   {decision.Reason}",
                    $"From:     {from} (may be forged)",
                    $"List:     {(lists.Count > 0 ? string.Join(", ", lists.Select(l => $"{l.Name} <{l.Address}>")) : "(no configured list)")}",
                    $"Subject:  {subject}",
                    $"Date:     {Clean(headers[HeaderId.Date]) ?? "(unknown)"}",
                    $"Size:     {size:N0} bytes",
                    $"Message-ID: {Clean(headers[HeaderId.MessageId]) ?? "(none)"}",
                    "",
                    $"The original is kept in the {quarantineFolder} folder of the inbound mailbox, which only the administrator should open.",
                }),
            };
            return notice;
        }

        private static string Clean(string value)
        {
            if (value == null) return null;
            var text = new string(ScanEnvelope.Unfold(value).Where(c => !char.IsControl(c)).ToArray());
            return text.Length == 0 ? null : Shorten(text, 200);
        }

        private static string Shorten(string text, int max) => text.Length <= max ? text : text.Substring(0, max) + "…";
    }
}
