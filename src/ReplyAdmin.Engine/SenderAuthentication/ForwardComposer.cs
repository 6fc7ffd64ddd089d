using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using MimeKit;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>
    /// Turns (original message, forward plan) into the message handed to the relay. Deterministic: the same original gives
    /// the same bytes (no new random Message-ID, boundary or date), so a forward repeated after a crash or a takeover is
    /// recognisable by its content. A rewritten or wrapped forward is built on a copy; the original is never changed.
    /// </summary>
    public static class ForwardComposer
    {
        /// <summary>The header field that keeps the customer's From on a rewritten or wrapped forward.</summary>
        public const string OriginalFromField = "X-Original-From";

        /// <summary>The message to forward for <paramref name="plan"/> (null: unchanged).</summary>
        public static MimeMessage Compose(MimeMessage original, ForwardPlan plan)
        {
            if (original == null) throw new ArgumentNullException(nameof(original));
            // Unchanged: the original itself, as forwards always went (the relay adds only Resent-* on top).
            switch (plan?.Mode ?? ForwardMode.Unchanged)
            {
                case ForwardMode.Rewrite: return Rewrite(Copy(original), plan);
                case ForwardMode.Wrap: return Wrap(Copy(original), plan);
                default: return original;
            }
        }

        /// <summary>
        /// A notice (a too-large reply) sent to a list's forward address: From the relay's address where one is configured
        /// (the notice's own .invalid sender would be refused by receivers), everything else as stored.
        /// </summary>
        public static MimeMessage ComposeNotice(MimeMessage notice, string relayAddress, string listName)
        {
            var copy = Copy(notice);
            if (!string.IsNullOrWhiteSpace(relayAddress) && MailboxAddress.TryParse(relayAddress, out var relay))
            {
                copy.From.Clear();
                copy.From.Add(new MailboxAddress("ReplyAdmin" + (listName != null ? " via " + listName : ""), relay.Address));
            }
            return copy;
        }

        private static MimeMessage Rewrite(MimeMessage message, ForwardPlan plan)
        {
            var senders = message.From.Mailboxes.ToList();
            var originalFrom = message.Headers[HeaderId.From];
            message.Headers.RemoveAll(OriginalFromField);
            if (originalFrom != null)
                message.Headers.Add(OriginalFromField, Unfold(originalFrom));
            message.From.Clear();
            message.From.Add(ViaAddress(senders, plan));
            message.Headers.RemoveAll(HeaderId.Sender);
            // Replies must reach the customer, not the relay; a Reply-To the customer chose stays.
            if (message.ReplyTo.Count == 0) message.ReplyTo.AddRange(senders);
            // The customer's signature covers From and no longer verifies: a broken signature helps no receiver.
            message.Headers.RemoveAll(HeaderId.DkimSignature);
            return message;
        }

        private static MimeMessage Wrap(MimeMessage original, ForwardPlan plan)
        {
            var senders = original.From.Mailboxes.ToList();
            var hash = ContentHash(original);
            var wrapper = new MimeMessage();
            wrapper.From.Add(ViaAddress(senders, plan));
            wrapper.ReplyTo.AddRange(original.ReplyTo.Count > 0 ? original.ReplyTo.Mailboxes : senders);
            wrapper.To.AddRange(original.To);
            wrapper.Subject = original.Subject ?? "";
            wrapper.Date = original.Date;
            var domain = MailboxAddress.TryParse(plan.RelayAddress, out var relay) && !string.IsNullOrEmpty(relay.Domain) ? relay.Domain : "replyadmin.invalid";
            wrapper.MessageId = $"wrap.{hash.Substring(0, 24)}@{domain}";
            if (original.MessageId != null) wrapper.InReplyTo = original.MessageId;
            wrapper.References.AddRange(original.References);
            if (original.MessageId != null && !wrapper.References.Contains(original.MessageId)) wrapper.References.Add(original.MessageId);
            var originalFrom = original.Headers[HeaderId.From];
            if (originalFrom != null) wrapper.Headers.Add(OriginalFromField, Unfold(originalFrom));

            var text = new TextPart("plain")
            {
                Text = $"A reply from {string.Join(", ", senders.Select(s => s.ToString()))} to the list {plan.ListName}, attached unchanged.\r\n" +
                       $"It is sent as an attachment because {plan.Reason}; answering this message answers the sender.\r\n",
                ContentTransferEncoding = ContentEncoding.QuotedPrintable,
            };
            var body = new Multipart("mixed") { text, new MessagePart("rfc822") { Message = original } };
            body.Boundary = "=-replyadmin-" + hash.Substring(0, 32);
            wrapper.Body = body;
            return wrapper;
        }

        // "Alice via sales" <relay address>.
        private static MailboxAddress ViaAddress(System.Collections.Generic.List<MailboxAddress> senders, ForwardPlan plan)
        {
            var first = senders.FirstOrDefault();
            var name = first == null ? "Unknown sender" : !string.IsNullOrWhiteSpace(first.Name) ? first.Name : first.Address;
            return new MailboxAddress($"{name} via {plan.ListName}", MailboxAddress.Parse(plan.RelayAddress).Address);
        }

        private static string Unfold(string value) => value.Replace("\r", "").Replace("\n", "").Trim();

        private static MimeMessage Copy(MimeMessage message)
        {
            using (var buffer = new MemoryStream())
            {
                message.WriteTo(buffer);
                buffer.Position = 0;
                return MimeMessage.Load(buffer);
            }
        }

        private static string ContentHash(MimeMessage message)
        {
            using (var buffer = new MemoryStream())
            using (var sha = SHA256.Create())
            {
                message.WriteTo(buffer);
                return Convert.ToHexString(sha.ComputeHash(buffer.ToArray())).ToLowerInvariant();
            }
        }
    }
}
