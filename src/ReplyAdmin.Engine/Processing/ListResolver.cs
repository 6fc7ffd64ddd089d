using System;
using System.Collections.Generic;
using System.Linq;
using MimeKit;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// Finds the lists a reply was sent to: the envelope headers the MTA adds first (Delivered-To,
    /// X-Original-To, Envelope-To, the first of them that names a list decides), then To and Cc. Case-insensitive; <c>list+tag@domain</c> matches <c>list@domain</c>.
    /// </summary>
    public sealed class ListResolver
    {
        private static readonly string[] EnvelopeHeaders = { "Delivered-To", "X-Original-To", "Envelope-To" };
        private static readonly string[] AddressHeaders = { "To", "Cc" };
        private readonly IReadOnlyList<ReplyList> _lists;

        /// <summary>Creates a resolver over the configured lists.</summary>
        public ListResolver(IEnumerable<ReplyList> lists) => _lists = lists.ToList();

        /// <summary>The lists the message is addressed to, in configuration order; empty when none matches.</summary>
        public IReadOnlyList<ReplyList> Resolve(HeaderList headers) => Resolve(headers, out _);

        /// <summary>The lists the message is addressed to, and the header field that decided them (null when none matched).</summary>
        /// <remarks>
        /// In an envelope header a recipient-delimiter address of the mailbox also counts: an MTA that rewrites the list
        /// address to <c>inbound+news@domain</c> delivers with <c>Delivered-To: inbound+news@domain</c>, which names list
        /// <c>news@domain</c> (same domain, the detail is the list's local part).
        /// </remarks>
        public IReadOnlyList<ReplyList> Resolve(HeaderList headers, out string decidedBy)
        {
            foreach (var names in new[] { EnvelopeHeaders, AddressHeaders })
            {
                var envelope = names == EnvelopeHeaders;
                var matched = names.Select(n => (Name: n, Lists: Match(headers, n, envelope))).Where(m => m.Lists.Count > 0).ToList();
                if (matched.Count == 0) continue;
                decidedBy = string.Join(", ", matched.Select(m => m.Name));
                var all = matched.SelectMany(m => m.Lists).ToList();
                return _lists.Where(all.Contains).ToList();
            }
            decidedBy = null;
            return new ReplyList[0];
        }

        /// <summary>True when <paramref name="candidate"/>, an envelope recipient, is <c>mailbox+local@domain</c> for the list <c>local@domain</c>.</summary>
        public static bool MatchesDetail(string listAddress, string candidate)
        {
            if (string.IsNullOrEmpty(listAddress) || string.IsNullOrEmpty(candidate))
                return false;
            candidate = candidate.Trim().Trim('<', '>');
            var at = candidate.LastIndexOf('@');
            var listAt = listAddress.LastIndexOf('@');
            var plus = at > 0 ? candidate.LastIndexOf('+', at - 1) : -1;
            return plus > 0 && listAt > 0
                && string.Equals(candidate.Substring(plus + 1, at - plus - 1), listAddress.Substring(0, listAt), StringComparison.OrdinalIgnoreCase)
                && string.Equals(candidate.Substring(at), listAddress.Substring(listAt), StringComparison.OrdinalIgnoreCase);
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

        private List<ReplyList> Match(HeaderList headers, string name, bool envelope)
        {
            var addresses = new List<string>();
            foreach (var header in headers)
            {
                if (!string.Equals(name, header.Field, StringComparison.OrdinalIgnoreCase))
                    continue;
                addresses.AddRange(Addresses(header));
            }
            return _lists.Where(l => addresses.Any(a => Matches(l.Address, a) || (envelope && MatchesDetail(l.Address, a)))).ToList();
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
