using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>What happens to a reply when a scanner cannot give a verdict.</summary>
    public enum ScanFailureMode
    {
        /// <summary>The reply stays at the source and is retried on the next run: staff see it once it is scanned.</summary>
        FailClosed,
        /// <summary>The reply is stored unscanned (keyword <c>ReplyAdmin-Unscanned</c>); forwarding still waits for a verdict.</summary>
        FailOpen,
    }

    /// <summary>A list's scanning policy (stored on the list; null means these defaults).</summary>
    public sealed class ScanPolicy
    {
        /// <summary>Storing when a scanner is unreachable: FailClosed (default) keeps the reply at the source until it is scanned.</summary>
        public ScanFailureMode OnScannerFailure { get; set; } = ScanFailureMode.FailClosed;

        /// <summary>Forward replies that rspamd would mark (add header, rewrite subject, soft reject) or that are phishing; default false. Rejected spam and viruses are never forwarded.</summary>
        public bool ForwardSuspectedSpam { get; set; }

        /// <summary>Prepend <c>X-Spam-Flag</c>/<c>X-Spam-Status</c> to the stored copy, for mail clients that ignore keywords; default false.</summary>
        public bool AddSpamHeaders { get; set; }

        /// <summary>The careful defaults.</summary>
        public static ScanPolicy Default => new ScanPolicy();

        /// <summary>A copy.</summary>
        public ScanPolicy Clone() => (ScanPolicy)MemberwiseClone();
    }

    /// <summary>What the scan means for one message.</summary>
    public enum ScanOutcome
    {
        /// <summary>Handle as routed (store, forward as <see cref="ScanDecision.Forward"/> says), with the decision's keywords.</summary>
        Proceed,
        /// <summary>A virus: the original goes to the source's Quarantine folder, a notice to the shared folder; nothing stored whole, nothing forwarded.</summary>
        Quarantine,
        /// <summary>Stored copy done or allowed, forward not: leave the message at the source (not acknowledged) and retry the forward later.</summary>
        DeferForward,
        /// <summary>Nothing now: leave the message at the source untouched and retry (scanner unreachable, list fails closed).</summary>
        Defer,
        /// <summary>Too large to scan and the list fails closed: like a too-large reply (Rejected folder plus a notice).</summary>
        Reject,
    }

    /// <summary>The decision from the scan verdicts and a list's policy. Pure: no I/O (see <see cref="Decide"/>).</summary>
    public sealed class ScanDecision
    {
        /// <summary>RFC 5788 keyword: junk (spam).</summary>
        public const string JunkKeyword = "$Junk";
        /// <summary>RFC 5788 keyword: phishing.</summary>
        public const string PhishingKeyword = "$Phishing";
        /// <summary>ReplyAdmin keyword: stored although a scanner could not scan it (fail open, or too large to scan).</summary>
        public const string UnscannedKeyword = "ReplyAdmin-Unscanned";
        /// <summary>ReplyAdmin keyword of the notice that replaces a quarantined reply.</summary>
        public const string QuarantineNoticeKeyword = "ReplyAdmin-Quarantined";

        private ScanDecision() { }

        /// <summary>What to do.</summary>
        public ScanOutcome Outcome { get; private set; }

        /// <summary>True when the original (or nothing, for Quarantine) may be stored in the shared folder now.</summary>
        public bool Store { get; private set; }

        /// <summary>True when the message may be forwarded (only when the list forwards).</summary>
        public bool Forward { get; private set; }

        /// <summary>True when a notice goes to the shared folder instead of the message (Quarantine, Reject).</summary>
        public bool Notice { get; private set; }

        /// <summary>Keywords to add to the stored copy: <c>$Junk</c>, <c>$Phishing</c>, <c>ReplyAdmin-Unscanned</c>.</summary>
        public IReadOnlyList<string> Keywords { get; private set; }

        /// <summary>Header fields to prepend to the stored copy (CRLF-terminated), or null. Prepending keeps DKIM signatures valid.</summary>
        public string PrependHeaders { get; private set; }

        /// <summary>Why, in one sentence, for the journal and the result objects.</summary>
        public string Reason { get; private set; }

        /// <summary>The verdicts it was decided from.</summary>
        public IReadOnlyList<ScanVerdict> Verdicts { get; private set; }

        /// <summary>The virus name, for Quarantine.</summary>
        public string VirusName { get; private set; }

        /// <summary>
        /// Decides. The table (first match wins):
        /// any virus → Quarantine; any scanner unreachable or in error → forward deferred (fails closed), storing by
        /// <see cref="ScanPolicy.OnScannerFailure"/> (FailClosed: Defer; FailOpen: store with ReplyAdmin-Unscanned);
        /// too large to scan → never forwarded, storing by the same choice (FailClosed: Reject with a notice;
        /// FailOpen: store with ReplyAdmin-Unscanned); rspamd reject → store with $Junk, no forward;
        /// add header, rewrite subject or soft reject → store with $Junk, forward only with
        /// <see cref="ScanPolicy.ForwardSuspectedSpam"/>; phishing → store with $Phishing, same forward rule;
        /// clean (greylist included) → store and forward as routed.
        /// </summary>
        /// <param name="verdicts">One verdict per configured scanner; empty when none is configured (then: proceed).</param>
        /// <param name="policy">The list's policy; null for the defaults.</param>
        /// <param name="forwards">Whether the routing decision forwards the message.</param>
        /// <exception cref="ArgumentNullException"><paramref name="verdicts"/> is null.</exception>
        public static ScanDecision Decide(IReadOnlyList<ScanVerdict> verdicts, ScanPolicy policy, bool forwards)
        {
            if (verdicts == null) throw new ArgumentNullException(nameof(verdicts));
            policy = policy ?? ScanPolicy.Default;
            var d = new ScanDecision { Verdicts = verdicts, Keywords = Array.Empty<string>() };

            var virus = verdicts.FirstOrDefault(v => v.Kind == ScanVerdictKind.Virus);
            if (virus != null)
            {
                d.Outcome = ScanOutcome.Quarantine;
                d.Notice = true;
                d.VirusName = virus.VirusName;
                d.Reason = $"virus {virus.VirusName} found by {virus.Scanner}: quarantined at the source, not stored, not forwarded";
                return d;
            }

            var failed = verdicts.Where(v => v.Kind == ScanVerdictKind.Unreachable || v.Kind == ScanVerdictKind.Error).ToList();
            var tooLarge = verdicts.Where(v => v.Kind == ScanVerdictKind.TooLarge).ToList();
            var keywords = new List<string>();
            var junk = verdicts.Where(v => v.IsJunk).OrderByDescending(v => v.Action).FirstOrDefault();
            var phishing = verdicts.FirstOrDefault(v => v.Phishing);
            if (junk != null) keywords.Add(JunkKeyword);
            if (phishing != null) keywords.Add(PhishingKeyword);

            if (failed.Count > 0)
            {
                var why = string.Join("; ", failed.Select(v => $"{v.Scanner}: {v.Reason ?? v.Kind.ToString()}"));
                if (policy.OnScannerFailure == ScanFailureMode.FailClosed)
                {
                    d.Outcome = ScanOutcome.Defer;
                    d.Reason = $"not scanned ({why}): the list fails closed, so the reply stays at the source and is retried";
                    return d;
                }
                keywords.Add(UnscannedKeyword);
                d.Outcome = forwards ? ScanOutcome.DeferForward : ScanOutcome.Proceed;
                d.Store = true;
                d.Keywords = keywords;
                d.Reason = $"not scanned ({why}): stored because the list fails open" + (forwards ? "; the forward waits at the source for a verdict" : "");
                d.PrependHeaders = policy.AddSpamHeaders ? HeaderText(verdicts) : null;
                return d;
            }

            if (tooLarge.Count > 0)
            {
                var why = string.Join("; ", tooLarge.Select(v => $"{v.Scanner}: {v.Reason ?? "too large"}"));
                if (policy.OnScannerFailure == ScanFailureMode.FailClosed)
                {
                    d.Outcome = ScanOutcome.Reject;
                    d.Notice = true;
                    d.Reason = $"too large to scan ({why}): rejected because the list fails closed";
                    return d;
                }
                keywords.Add(UnscannedKeyword);
                d.Outcome = ScanOutcome.Proceed;
                d.Store = true;
                d.Keywords = keywords;
                d.Reason = $"too large to scan ({why}): stored unscanned because the list fails open" + (forwards ? ", never forwarded" : "");
                d.PrependHeaders = policy.AddSpamHeaders ? HeaderText(verdicts) : null;
                return d;
            }

            d.Outcome = ScanOutcome.Proceed;
            d.Store = true;
            d.Keywords = keywords;
            d.PrependHeaders = policy.AddSpamHeaders && verdicts.Count > 0 ? HeaderText(verdicts) : null;
            if (junk != null && junk.Action == SpamAction.Reject)
            {
                d.Reason = $"spam ({junk.Scanner} action reject, score {Score(junk)}): stored as junk" + (forwards ? ", not forwarded" : "");
                return d;
            }
            if (junk != null || phishing != null)
            {
                d.Forward = forwards && policy.ForwardSuspectedSpam;
                var what = junk != null ? $"suspected spam ({junk.Scanner} action {ScanVerdict.ActionName(junk.Action)}, score {Score(junk)})" : $"phishing ({phishing.Scanner})";
                d.Reason = $"{what}: stored as {(junk != null ? "junk" : "phishing")}"
                    + (!forwards ? "" : d.Forward ? ", forwarded because the list allows it" : ", not forwarded (the list does not forward suspected spam)");
                return d;
            }
            d.Forward = forwards;
            d.Reason = verdicts.Count == 0 ? "no scanner configured" : "clean (" + string.Join("; ", verdicts.Select(v => v.Summary)) + ")";
            return d;
        }

        /// <summary>
        /// The <c>X-Spam-Flag</c> and <c>X-Spam-Status</c> fields for <paramref name="verdicts"/>, SpamAssassin-style
        /// (<c>X-Spam-Status: Yes, score=15.00 required=15.00 tests=GTUBE scanner=rspamd</c>), CRLF-terminated, folded
        /// at 78 characters.
        /// </summary>
        public static string HeaderText(IReadOnlyList<ScanVerdict> verdicts)
        {
            var junk = verdicts.Any(v => v.IsJunk || v.Kind == ScanVerdictKind.Virus);
            var main = verdicts.Where(v => v.Score.HasValue).OrderByDescending(v => v.Score).FirstOrDefault() ?? verdicts.FirstOrDefault();
            var parts = new List<string> { junk ? "Yes," : "No," };
            if (main?.Score != null) parts.Add(string.Format(CultureInfo.InvariantCulture, "score={0:0.00}", main.Score.Value));
            if (main?.RequiredScore != null) parts.Add(string.Format(CultureInfo.InvariantCulture, "required={0:0.00}", main.RequiredScore.Value));
            var tests = verdicts.SelectMany(v => v.Symbols).Where(s => s.Score != 0).Select(s => s.Name).Distinct().Take(30).ToList();
            parts.Add("tests=" + (tests.Count == 0 ? "none" : string.Join(",", tests)));
            if (verdicts.Any(v => !v.Scanned)) parts.Add("unscanned=" + string.Join(",", verdicts.Where(v => !v.Scanned).Select(v => v.Scanner)));
            parts.Add("scanner=" + string.Join(",", verdicts.Select(v => v.Scanner)));
            // Only ASCII atoms go in: symbol names come from the scanner, but a line break would let one inject a header.
            var status = Fold("X-Spam-Status: " + string.Join(" ", parts.Select(p => new string(p.Where(c => c > ' ' && c < 127).ToArray()))));
            return $"X-Spam-Flag: {(junk ? "YES" : "NO")}\r\n{status}\r\n";
        }

        private static string Fold(string line)
        {
            var words = line.Split(' ');
            var result = new System.Text.StringBuilder();
            var length = 0;
            foreach (var word in words)
            {
                if (length > 0 && length + 1 + word.Length > 78) { result.Append("\r\n\t"); length = 1; }
                else if (length > 0) { result.Append(' '); length++; }
                result.Append(word);
                length += word.Length;
            }
            return result.ToString();
        }

        private static string Score(ScanVerdict v) =>
            v.Score.HasValue ? v.Score.Value.ToString("0.##", CultureInfo.InvariantCulture) + (v.RequiredScore.HasValue ? "/" + v.RequiredScore.Value.ToString("0.##", CultureInfo.InvariantCulture) : "") : "n/a";
    }
}
