using System;
using System.Collections.Generic;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>A DMARC policy record (RFC 7489 §6.3), the tags that matter for forwarding.</summary>
    public sealed class DmarcRecord
    {
        /// <summary>The policy for the domain: none, quarantine or reject.</summary>
        public string Policy { get; private set; }

        /// <summary>The policy for subdomains (sp=); null when not given (the domain's policy applies).</summary>
        public string SubdomainPolicy { get; private set; }

        /// <summary>True for strict DKIM alignment (adkim=s).</summary>
        public bool StrictDkim { get; private set; }

        /// <summary>True for strict SPF alignment (aspf=s).</summary>
        public bool StrictSpf { get; private set; }

        /// <summary>The record as published.</summary>
        public string Text { get; private set; }

        /// <summary>Parses a TXT record; false when it is not a DMARC record (no <c>v=DMARC1</c> first, or no valid p=).</summary>
        public static bool TryParse(string text, out DmarcRecord record)
        {
            record = null;
            if (text == null) return false;
            var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var first = true;
            foreach (var part in text.Split(';'))
            {
                var pair = part.Trim();
                if (pair.Length == 0) continue;
                var eq = pair.IndexOf('=');
                if (eq <= 0) { if (first) return false; continue; }
                var name = pair.Substring(0, eq).Trim();
                var value = pair.Substring(eq + 1).Trim();
                if (first && !(name.Equals("v", StringComparison.OrdinalIgnoreCase) && value.Equals("DMARC1", StringComparison.OrdinalIgnoreCase))) return false;
                first = false;
                if (!tags.ContainsKey(name)) tags[name] = value;
            }
            if (first || !tags.TryGetValue("p", out var p) || !IsPolicy(p)) return false;
            record = new DmarcRecord
            {
                Policy = p.ToLowerInvariant(),
                SubdomainPolicy = tags.TryGetValue("sp", out var sp) && IsPolicy(sp) ? sp.ToLowerInvariant() : null,
                StrictDkim = tags.TryGetValue("adkim", out var adkim) && adkim.Equals("s", StringComparison.OrdinalIgnoreCase),
                StrictSpf = tags.TryGetValue("aspf", out var aspf) && aspf.Equals("s", StringComparison.OrdinalIgnoreCase),
                Text = text,
            };
            return true;
        }

        private static bool IsPolicy(string value) =>
            value.Equals("none", StringComparison.OrdinalIgnoreCase) || value.Equals("quarantine", StringComparison.OrdinalIgnoreCase) || value.Equals("reject", StringComparison.OrdinalIgnoreCase);
    }
}
