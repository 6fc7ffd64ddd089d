using System;
using System.Collections.Generic;
using System.Linq;
using MimeKit;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// Finds the lists a reply was sent to: the envelope headers the MTA adds first (Delivered-To,
    /// X-Original-To, Envelope-To), then To and Cc. Case-insensitive; <c>list+tag@domain</c> matches <c>list@domain</c>.
    /// </summary>
    public sealed class ListResolver
    {
        private static readonly string[] EnvelopeHeaders = { "Delivered-To", "X-Original-To", "Envelope-To" };
        private static readonly string[] AddressHeaders = { "To", "Cc" };
        private readonly IReadOnlyList<ReplyList> _lists;

        /// <summary>Creates a resolver over the configured lists.</summary>
        public ListResolver(IEnumerable<ReplyList> lists) => _lists = lists.ToList();

        /// <summary>The lists the message is addressed to, in configuration order; empty when none matches.</summary>
        public IReadOnlyList<ReplyList> Resolve(HeaderList headers)
        {
            var found = Match(headers, EnvelopeHeaders);
            return found.Count > 0 ? found : Match(headers, AddressHeaders);
        }

        /// <summary>True when <paramref name="candidate"/> is the list address or a sub-address of it (<c>local+tag@domain</c>).</summary>
        public static bool Matches(string listAddress, string candidate)
        {
            if (string.IsNullOrEmpty(listAddress) || string.IsNullOrEmpty(candidate))
                return false;
            candidate = candidate.Trim().Trim('<', '>');
            if (string.Equals(listAddress, candidate, StringComparison.OrdinalIgnoreCase))
                return true;
            var at = candidate.LastIndexOf('@');
            var plus = at > 0 ? candidate.LastIndexOf('+', at - 1) : -1;
            return plus > 0 && string.Equals(listAddress, candidate.Substring(0, plus) + candidate.Substring(at), StringComparison.OrdinalIgnoreCase);
        }

        private List<ReplyList> Match(HeaderList headers, string[] names)
        {
            var addresses = new List<string>();
            foreach (var header in headers)
            {
                if (!names.Any(n => string.Equals(n, header.Field, StringComparison.OrdinalIgnoreCase)))
                    continue;
                addresses.AddRange(Addresses(header));
            }
            return _lists.Where(l => addresses.Any(a => Matches(l.Address, a))).ToList();
        }

        // Malformed address headers still yield what can be read: fall back to anything that looks like local@domain.
        private static IEnumerable<string> Addresses(Header header)
        {
            var value = header.Value ?? string.Empty;
            if (InternetAddressList.TryParse(value, out var parsed))
                return parsed.Mailboxes.Select(m => m.Address);
            return value.Split(new[] { ',', ';', ' ', '\t', '<', '>', '"' }, StringSplitOptions.RemoveEmptyEntries).Where(t => t.IndexOf('@') > 0);
        }
    }
}
