using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// The zero-infrastructure mode for sites whose MTA already scans: reads the verdict the MTA wrote into the
    /// message (<c>X-Spam-Flag</c>, <c>X-Spam-Status</c>, <c>X-Spam</c>, <c>X-Spam-Action</c>, <c>X-Spam-Score</c>,
    /// <c>X-Virus</c>/<c>X-Virus-Status</c>, and <c>Authentication-Results</c> of our authserv-id), trusting only
    /// header fields above the trusted <c>Received</c> line (<see cref="ScanEnvelope.TrustedHeaderCount"/>): a sender
    /// can write any of these headers, but not above the line our MTA prepends.
    /// </summary>
    public sealed class HeaderTrustScanner : IContentScanner
    {
        private static readonly Regex StatusPattern = new Regex(@"^\s*(?<flag>yes|no)\b(?<rest>.*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
        private static readonly Regex ScorePattern = new Regex(@"\b(?:score|hits)=(?<v>-?[0-9]+(?:\.[0-9]+)?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex RequiredPattern = new Regex(@"\brequired=(?<v>-?[0-9]+(?:\.[0-9]+)?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex TestsPattern = new Regex(@"\btests=(?<v>\S+(?:\s*,\s*\S+)*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex ResultPattern = new Regex(@"\b(?<method>spf|dkim|dmarc|arc)\s*=\s*(?<result>[a-z]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private readonly string _authservId;

        /// <summary>Creates the scanner.</summary>
        /// <param name="authservId">The authserv-id our MTA writes in <c>Authentication-Results</c> (e.g. <c>mx.example.net</c>).</param>
        /// <exception cref="ArgumentException"><paramref name="authservId"/> is empty.</exception>
        public HeaderTrustScanner(string authservId)
        {
            if (string.IsNullOrWhiteSpace(authservId))
                throw new ArgumentException("The authserv-id of our MTA is required.", nameof(authservId));
            _authservId = authservId.Trim();
        }

        /// <inheritdoc />
        public string Name => "mta-headers";

        /// <inheritdoc />
        public string Address => "authserv-id " + _authservId;

        /// <inheritdoc />
        public Task<string> GetVersionAsync(CancellationToken cancellationToken) => Task.FromResult("trusted MTA headers (authserv-id " + _authservId + ")");

        /// <inheritdoc />
        public Task<ScanVerdict> ScanAsync(Stream message, ScanEnvelope envelope, CancellationToken cancellationToken)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            HeaderList headers;
            try
            {
                headers = new MimeParser(message, MimeFormat.Entity).ParseHeaders();
            }
            catch (FormatException e)
            {
                return Task.FromResult(new ScanVerdict(Name, ScanVerdictKind.Error, reason: "the header block cannot be read: " + e.Message, elapsed: watch.Elapsed));
            }
            return Task.FromResult(Evaluate(headers, envelope.TrustedHeaderCount, watch.Elapsed));
        }

        /// <summary>Reads the verdict from the first <paramref name="trustedCount"/> header fields.</summary>
        public ScanVerdict Evaluate(HeaderList headers, int trustedCount, TimeSpan elapsed = default)
        {
            if (trustedCount <= 0)
                return new ScanVerdict(Name, ScanVerdictKind.Error, elapsed: elapsed,
                    reason: "no trusted Received line: the message did not come through our MTA, so none of its verdict headers can be trusted");
            var trusted = headers.Take(Math.Min(trustedCount, headers.Count)).ToList();
            string Value(string name) => trusted.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase))
                .Select(h => ScanEnvelope.Unfold(h.Value)).FirstOrDefault();

            var symbols = new List<ScanSymbol>();
            bool? spam = null;
            double? score = null, required = null;
            SpamAction action = SpamAction.NoAction;
            var sawVerdict = false;

            var status = Value("X-Spam-Status");
            if (status != null)
            {
                var m = StatusPattern.Match(status);
                if (m.Success)
                {
                    sawVerdict = true;
                    spam = m.Groups["flag"].Value.Equals("yes", StringComparison.OrdinalIgnoreCase);
                    score = Number(ScorePattern, status);
                    required = Number(RequiredPattern, status);
                    var tests = TestsPattern.Match(status);
                    if (tests.Success)
                        symbols.AddRange(tests.Groups["v"].Value.Split(',').Select(t => t.Trim()).Where(t => t.Length > 0 && t != "none")
                            .Select(t => new ScanSymbol(t.Split('=')[0], 0)));
                }
            }
            var flag = Value("X-Spam-Flag") ?? Value("X-Spam");
            if (flag != null)
            {
                sawVerdict = true;
                var yes = flag.Trim().StartsWith("yes", StringComparison.OrdinalIgnoreCase) || flag.Trim().StartsWith("true", StringComparison.OrdinalIgnoreCase);
                spam = (spam ?? false) || yes;
            }
            var actionText = Value("X-Spam-Action");
            if (actionText != null && ScanVerdict.ParseAction(actionText) is SpamAction parsed)
            {
                sawVerdict = true;
                action = parsed;
                spam = (spam ?? false) || parsed >= SpamAction.AddHeader;
            }
            var scoreText = Value("X-Spam-Score");
            if (score == null && scoreText != null && double.TryParse(scoreText.Trim().Split(' ', '/')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
                score = s;
            if (spam == true && action < SpamAction.AddHeader) action = SpamAction.AddHeader;

            string virus = null;
            var virusHeader = Value("X-Virus");
            var virusStatus = Value("X-Virus-Status");
            if (!string.IsNullOrWhiteSpace(virusHeader) && !virusHeader.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
                virus = virusHeader.Trim();
            else if (virusStatus != null && virusStatus.Trim().StartsWith("infected", StringComparison.OrdinalIgnoreCase))
            {
                var open = virusStatus.IndexOf('(');
                virus = open > 0 ? virusStatus.Substring(open + 1).TrimEnd(')', ' ') : "(unnamed)";
            }

            // Authentication-Results of our own authserv-id: a DMARC failure means the From domain is forged.
            var dmarcFail = false;
            foreach (var ar in trusted.Where(h => h.Field.Equals("Authentication-Results", StringComparison.OrdinalIgnoreCase)))
            {
                var value = ScanEnvelope.Unfold(ar.Value);
                var semicolon = value.IndexOf(';');
                var id = (semicolon >= 0 ? value.Substring(0, semicolon) : value).Trim().Split(' ', '\t')[0];
                if (!id.Equals(_authservId, StringComparison.OrdinalIgnoreCase)) continue;
                sawVerdict = true;
                foreach (Match r in ResultPattern.Matches(semicolon >= 0 ? value.Substring(semicolon + 1) : ""))
                {
                    var symbol = (r.Groups["method"].Value + "_" + r.Groups["result"].Value).ToUpperInvariant();
                    if (symbols.All(x => x.Name != symbol)) symbols.Add(new ScanSymbol(symbol, 0, "Authentication-Results of " + id));
                    if (symbol == "DMARC_FAIL") dmarcFail = true;
                }
            }
            if (dmarcFail && action < SpamAction.AddHeader)
            {
                action = SpamAction.AddHeader;
                spam = true;
            }

            if (virus != null)
                return new ScanVerdict(Name, ScanVerdictKind.Virus, action, score, required, symbols, virus, elapsed: elapsed);
            if (!sawVerdict)
                return new ScanVerdict(Name, ScanVerdictKind.Error, elapsed: elapsed,
                    reason: $"the MTA left no verdict (X-Spam-Status, X-Spam-Flag, X-Spam-Action or Authentication-Results of {_authservId}) above the trusted Received line");
            return new ScanVerdict(Name, spam == true ? ScanVerdictKind.Spam : ScanVerdictKind.Clean, action, score, required, symbols, elapsed: elapsed);
        }

        private static double? Number(Regex pattern, string text)
        {
            var m = pattern.Match(text);
            return m.Success && double.TryParse(m.Groups["v"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null;
        }
    }
}
