using System;
using System.Linq;
using MimeKit;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The short message stored in the reply folder in place of a reply that could not be stored, so that no
    /// customer's reply disappears without staff knowing.
    /// </summary>
    internal static class TooLargeNotice
    {
        public static MimeMessage Create(SourceMessage message, ProcessingResult result, RoutingDecision decision)
        {
            var notice = new MimeMessage();
            notice.From.Add(new MailboxAddress("ReplyAdmin", "replyadmin@replyadmin.invalid"));
            if (decision.Lists.Count > 0)
                foreach (var list in decision.Lists) notice.To.Add(MailboxAddress.Parse(list.Address));
            else
                notice.To.Add(new MailboxAddress("ReplyAdmin", "replyadmin@replyadmin.invalid"));
            if (result.From != null && InternetAddressList.TryParse(result.From, out var senders))
                notice.ReplyTo.AddRange(senders.Mailboxes.Take(5));
            notice.Subject = $"[ReplyAdmin] Reply not stored: {Shorten(result.Subject ?? "(no subject)", 120)}";
            notice.Date = DateTimeOffset.UtcNow;
            notice.Body = new TextPart("plain")
            {
                Text = string.Join("\r\n", new[]
                {
                    "A reply could not be stored in this folder.",
                    "",
                    $"Reason:   {decision.Reason}",
                    $"From:     {result.From ?? "(unknown)"}",
                    $"List:     {(decision.Lists.Count > 0 ? string.Join(", ", decision.Lists.Select(l => $"{l.Name} <{l.Address}>")) : "(no configured list)")}",
                    $"Subject:  {result.Subject ?? "(no subject)"}",
                    $"Date:     {result.Date?.ToString("yyyy-MM-dd HH:mm zzz") ?? "(unknown)"}",
                    $"Size:     {message.Size:N0} bytes",
                    $"Message-ID: {result.MessageId ?? "(none)"}",
                    "",
                    "The original is kept in the Rejected folder of the inbound mailbox. Answer the sender (Reply-To is set to them) and ask them to send large attachments another way.",
                }),
            };
            return notice;
        }

        internal static MimeMessage WithId(MimeMessage notice, string id)
        {
            notice.MessageId = id;
            return notice;
        }

        private static string Shorten(string text, int max)
        {
            text = text.Replace("\r", " ").Replace("\n", " ");
            return text.Length <= max ? text : text.Substring(0, max) + "…";
        }
    }
}
