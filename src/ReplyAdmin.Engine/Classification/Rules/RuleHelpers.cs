using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace ReplyAdmin.Engine.Classification.Rules
{
    /// <summary>What every rule file shares: regex options and timeout, header access, text normalisation, safe matching.</summary>
    internal static class RuleHelpers
    {
        internal static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);
        // Not RegexOptions.Compiled: compiling the several dozen patterns cost each run about 0.4 s of code generation and JIT,
        // more than the interpreter loses on a run's matches (the engine loop classifies as fast either way).
        internal const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;
        // Subjects and body text are normalised to lower case first (Normalize): their patterns need no case folding.
        internal const RegexOptions Lower = RegexOptions.CultureInvariant;
        internal const int MaxSubjectLength = 1000;
        internal const int MaxTextLength = 6000;

        /// <summary>The first value of a header, decoded; null when absent or unreadable.</summary>
        internal static string First(HeaderIndex headers, string name) => headers.First(name);

        /// <summary>
        /// The first occurrence of each header field, indexed in one pass; values are decoded only when asked for
        /// (Received and other long headers are never decoded).
        /// </summary>
        internal sealed class HeaderIndex
        {
            private readonly Dictionary<string, Header> _first = new Dictionary<string, Header>(StringComparer.OrdinalIgnoreCase);

            public HeaderIndex(HeaderList headers)
            {
                foreach (var header in headers)
                {
                    if (header.Field != null && !_first.ContainsKey(header.Field))
                        _first.Add(header.Field, header);
                }
            }

            public string First(string name)
            {
                if (!_first.TryGetValue(name, out var header))
                    return null;
                try
                {
                    return header.Value ?? string.Empty;
                }
                catch (Exception)
                {
                    return null; // undecodable header: treated as absent
                }
            }
        }

        // The first word of a header value: "auto-replied (vacation)" → "auto-replied".
        internal static string Token(string value)
        {
            var v = value.Trim();
            var end = v.IndexOfAny(new[] { ';', '(', ' ', '\t', ',' });
            return (end < 0 ? v : v.Substring(0, end)).Trim().ToLowerInvariant();
        }

        /// <summary>Lower case, accents removed (ä→a, é→e, ł→l, ß→ss), typographic apostrophes straightened, NULs dropped.</summary>
        internal static string Normalize(string s)
        {
            if (string.IsNullOrEmpty(s))
                return string.Empty;
            var decomposed = s.Normalize(NormalizationForm.FormD);
            var sb = new StringBuilder(decomposed.Length);
            foreach (var c in decomposed)
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(c);
                if (category == UnicodeCategory.NonSpacingMark || c == '\0')
                    continue;
                switch (c)
                {
                    case 'ł': case 'Ł': sb.Append('l'); break;
                    case 'ß': sb.Append("ss"); break;
                    case 'ø': case 'Ø': sb.Append('o'); break;
                    case 'æ': case 'Æ': sb.Append("ae"); break;
                    case '\u2019': case '\u2018': sb.Append('\''); break;
                    case '\u00A0': sb.Append(' '); break;
                    default: sb.Append(char.ToLowerInvariant(c)); break;
                }
            }
            return sb.ToString();
        }

        internal static bool SafeMatch(Regex regex, string input)
        {
            var m = SafeRegexMatch(regex, input);
            return m != null && m.Success;
        }

        internal static Match SafeRegexMatch(Regex regex, string input)
        {
            try
            {
                return regex.Match(input ?? string.Empty);
            }
            catch (RegexMatchTimeoutException)
            {
                return null; // pathological input: no evidence rather than a hang
            }
        }
    }
}
