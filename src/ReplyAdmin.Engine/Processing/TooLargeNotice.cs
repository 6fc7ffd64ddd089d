using System;
using System.Collections.Generic;
using System.Linq;
using MimeKit;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The short message stored in the reply folder in place of a reply that could not be stored (too large, or unreadable
    /// and refused by the server as it came), so that no customer's reply disappears without staff knowing. Every header
    /// taken from the message is built through MimeKit's address and header types, never by joining strings.
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
            notice.ReplyTo.AddRange(Senders(message.Headers));
            var unreadable = decision.Unreadable;
            notice.Subject = unreadable
                ? $"[ReplyAdmin] Unreadable reply: {Shorten(result.Subject ?? "(no subject)", 120)}"
                : $"[ReplyAdmin] Reply not stored: {Shorten(result.Subject ?? "(no subject)", 120)}";
            notice.Date = DateTimeOffset.UtcNow;
            notice.Body = new TextPart("plain")
            {
                Text = string.Join("\r\n", new[]
                {
                    unreadable ? "A reply arrived that cannot be read as e-mail, and the server did not take it as it came." : "A reply could not be stored in this folder.",
                    "",
                    $"Reason:   {decision.Reason}",
                    $"From:     {result.From ?? "(unknown)"}",
                    $"List:     {(decision.Lists.Count > 0 ? string.Join(", ", decision.Lists.Select(l => $"{l.Name} <{l.Address}>")) : "(no configured list)")}",
                    $"Subject:  {result.Subject ?? "(no subject)"}",
                    $"Date:     {result.Date?.ToString("yyyy-MM-dd HH:mm zzz") ?? "(unknown)"}",
                    $"Size:     {message.Size:N0} bytes",
                    $"Message-ID: {result.MessageId ?? "(none)"}",
                    "",
                    unreadable
                        ? "The original is kept in the Rejected folder of the inbound mailbox, where an administrator can look at it. If a sender is known (Reply-To is set to them), ask them to send the reply again."
                        : "The original is kept in the Rejected folder of the inbound mailbox. Answer the sender (Reply-To is set to them) and ask them to send large attachments another way.",
                }),
            };
            return notice;
        }

        // The senders from the From field's raw bytes, parsed by MimeKit: a display name is decoded only inside a mailbox,
        // so an encoded-word that decodes to "Anna: attacker@evil.example;" stays a name and never becomes an address.
        private static IEnumerable<MailboxAddress> Senders(HeaderList headers)
        {
            var from = headers?.FirstOrDefault(h => h.Id == HeaderId.From);
            if (from == null) return Enumerable.Empty<MailboxAddress>();
            var raw = from.RawValue;
            return InternetAddressList.TryParse(ParserOptions.Default, raw, 0, raw.Length, out var senders)
                ? senders.Mailboxes.Take(5).ToList() : Enumerable.Empty<MailboxAddress>();
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
