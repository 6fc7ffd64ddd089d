using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>
    /// The Public Suffix List, for the organizational domain of DMARC's relaxed alignment (RFC 7489 §3.2). Read offline
    /// from a file in the list's own format: by default Debian's <c>publicsuffix</c> package
    /// (<c>/usr/share/publicsuffix/public_suffix_list.dat</c>), which the system's updates keep current; where that file is
    /// missing (Windows, a minimal host), a built-in list of the most common multi-label suffixes. Nothing is downloaded.
    /// </summary>
    /// <remarks>
    /// Why not ship the whole list: it changes every week, and a copy in the module would age with each release while the
    /// distribution's copy is updated with the system. The fallback errs only for rare multi-label suffixes (two senders
    /// under such a suffix would look like one organization), which affects the choice of a forward mode, not security.
    /// </remarks>
    public sealed class PublicSuffixList
    {
        /// <summary>Where Debian's <c>publicsuffix</c> package puts the list.</summary>
        public const string DebianPath = "/usr/share/publicsuffix/public_suffix_list.dat";

        // Common multi-label public suffixes (ccTLD second levels, big hosting platforms); single labels follow the list's
        // default rule "*", so they need no entry.
        private static readonly string[] BuiltIn =
        {
            "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk",
            "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "net.nz", "co.za", "org.za",
            "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "com.br", "net.br", "org.br", "com.mx", "com.ar",
            "com.cn", "net.cn", "org.cn", "com.hk", "com.tw", "com.sg", "com.my", "co.in", "net.in", "org.in", "co.id", "co.il",
            "com.tr", "com.pl", "net.pl", "org.pl", "co.at", "or.at", "ac.at", "gv.at", "com.es", "com.pt", "com.gr", "co.it",
            "com.ua", "co.th", "com.vn", "com.ph", "com.pk", "com.sa", "com.eg", "com.ng", "co.ke",
            "github.io", "gitlab.io", "herokuapp.com", "azurewebsites.net", "cloudapp.net", "blogspot.com", "appspot.com",
            "amazonaws.com", "cloudfront.net", "netlify.app", "vercel.app", "pages.dev", "workers.dev",
        };

        private readonly HashSet<string> _rules;
        private readonly HashSet<string> _wildcards;
        private readonly HashSet<string> _exceptions;

        private PublicSuffixList(IEnumerable<string> lines, string source)
        {
            _rules = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            _wildcards = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            _exceptions = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            Source = source;
            foreach (var raw in lines)
            {
                var line = raw.Trim();
                var space = line.IndexOfAny(new[] { ' ', '\t' });
                if (space >= 0) line = line.Substring(0, space);
                if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal)) continue;
                line = ToAscii(line);
                if (line.StartsWith("!", StringComparison.Ordinal)) _exceptions.Add(line.Substring(1));
                else if (line.StartsWith("*.", StringComparison.Ordinal)) _wildcards.Add(line.Substring(2));
                else _rules.Add(line);
            }
        }

        /// <summary>Where the rules came from: a file path, or "built-in".</summary>
        public string Source { get; }

        /// <summary>The number of rules.</summary>
        public int Count => _rules.Count + _wildcards.Count + _exceptions.Count;

        private static readonly Lazy<PublicSuffixList> Shared = new Lazy<PublicSuffixList>(() => Load(null));

        /// <summary>The list of this host (Debian's file when present, else the built-in fallback), read once per process.</summary>
        public static PublicSuffixList Default => Shared.Value;

        /// <summary>Reads the list from <paramref name="path"/>; with null, Debian's file when present, else the built-in fallback.</summary>
        /// <exception cref="IOException">A given <paramref name="path"/> cannot be read.</exception>
        public static PublicSuffixList Load(string path)
        {
            if (path != null) return new PublicSuffixList(File.ReadLines(path), path);
            return File.Exists(DebianPath) ? new PublicSuffixList(File.ReadLines(DebianPath), DebianPath) : BuiltInList();
        }

        /// <summary>The built-in fallback only (for tests and hosts without the file).</summary>
        public static PublicSuffixList BuiltInList() => new PublicSuffixList(BuiltIn, "built-in");

        /// <summary>Reads rules given as lines of the list's format (for tests).</summary>
        public static PublicSuffixList FromRules(IEnumerable<string> lines) => new PublicSuffixList(lines, "given");

        /// <summary>
        /// The organizational domain: the public suffix plus one label (<c>mail.shop.example.co.uk</c> → <c>example.co.uk</c>).
        /// A name that is itself a public suffix is its own organizational domain. Lower case, ASCII (punycode).
        /// </summary>
        public string OrganizationalDomain(string domain)
        {
            if (string.IsNullOrWhiteSpace(domain)) return domain;
            var labels = ToAscii(domain.Trim().TrimEnd('.')).ToLowerInvariant().Split('.');
            var suffixLabels = SuffixLength(labels);
            if (suffixLabels >= labels.Length) return string.Join(".", labels);
            return string.Join(".", labels.Skip(labels.Length - suffixLabels - 1));
        }

        /// <summary>True when the two domains have the same organizational domain (DMARC relaxed alignment).</summary>
        public bool SameOrganization(string a, string b) =>
            !string.IsNullOrEmpty(a) && !string.IsNullOrEmpty(b) && string.Equals(OrganizationalDomain(a), OrganizationalDomain(b), StringComparison.OrdinalIgnoreCase);

        // How many labels from the right form the public suffix (the PSL algorithm: exception rules win, then the longest
        // matching rule, a wildcard matching any one label; no match → the default rule "*", one label).
        private int SuffixLength(string[] labels)
        {
            var best = 1;
            for (var n = 1; n <= labels.Length; n++)
            {
                var candidate = string.Join(".", labels.Skip(labels.Length - n));
                if (_exceptions.Contains(candidate)) return n - 1;
                if (_rules.Contains(candidate)) best = Math.Max(best, n);
                if (n < labels.Length && _wildcards.Contains(candidate)) best = Math.Max(best, n + 1);
            }
            return best;
        }

        private static readonly System.Globalization.IdnMapping Idn = new System.Globalization.IdnMapping();

        private static string ToAscii(string name)
        {
            if (name.All(c => c < 128)) return name;
            try { return Idn.GetAscii(name); } catch (ArgumentException) { return name; }
        }
    }
}
