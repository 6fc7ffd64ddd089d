using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>What a scanner found, in the order of precedence the policy applies (a virus outweighs spam).</summary>
    public enum ScanVerdictKind
    {
        /// <summary>Scanned, nothing found (rspamd "no action" or "greylist", clamd "OK").</summary>
        Clean,
        /// <summary>Scanned; rspamd's action says junk (<see cref="SpamAction"/>).</summary>
        Spam,
        /// <summary>Scanned; rspamd found phishing and no higher spam action.</summary>
        Phishing,
        /// <summary>Scanned; a virus was found (<see cref="ScanVerdict.VirusName"/>).</summary>
        Virus,
        /// <summary>Not scanned: larger than the scanner accepts (clamd's StreamMaxLength). Retrying does not help.</summary>
        TooLarge,
        /// <summary>Not scanned: the scanner could not be reached or timed out. Retrying later may help.</summary>
        Unreachable,
        /// <summary>Not scanned: the scanner answered with an error, or (trusted-header mode) the MTA left no verdict.</summary>
        Error,
    }

    /// <summary>rspamd's action for a message (its thresholds, lowest first).</summary>
    public enum SpamAction
    {
        /// <summary>"no action": below every threshold.</summary>
        NoAction,
        /// <summary>"greylist": an MTA would delay it once; after delivery it says little, so it is not junk.</summary>
        Greylist,
        /// <summary>"add header": the MTA would mark it as spam.</summary>
        AddHeader,
        /// <summary>"rewrite subject": the MTA would mark the subject.</summary>
        RewriteSubject,
        /// <summary>"soft reject": the MTA would ask the sender to retry (rate limits and the like).</summary>
        SoftReject,
        /// <summary>"reject": the MTA would refuse it.</summary>
        Reject,
    }

    /// <summary>One rule that matched, with its score and details, as the scanner reported it.</summary>
    public sealed class ScanSymbol
    {
        /// <summary>Creates a symbol.</summary>
        public ScanSymbol(string name, double score, string description = null, IReadOnlyList<string> options = null)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Score = score;
            Description = description;
            Options = options ?? Array.Empty<string>();
        }

        /// <summary>Rule name, e.g. <c>GTUBE</c> or <c>MISSING_MIME_VERSION</c>.</summary>
        public string Name { get; }

        /// <summary>What the rule added to the score.</summary>
        public double Score { get; }

        /// <summary>The rule's description, where the scanner gives one.</summary>
        public string Description { get; }

        /// <summary>The rule's details (e.g. a virus name, a URL).</summary>
        public IReadOnlyList<string> Options { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0}({1:0.##})", Name, Score);
    }

    /// <summary>The result of one scanner for one message. A scanner failure is a verdict too, never an exception.</summary>
    public sealed class ScanVerdict
    {
        /// <summary>Creates a verdict.</summary>
        public ScanVerdict(string scanner, ScanVerdictKind kind, SpamAction action = SpamAction.NoAction, double? score = null,
            double? requiredScore = null, IReadOnlyList<ScanSymbol> symbols = null, string virusName = null, bool phishing = false,
            string version = null, string reason = null, TimeSpan elapsed = default)
        {
            Scanner = scanner ?? throw new ArgumentNullException(nameof(scanner));
            Kind = kind;
            Action = action;
            Score = score;
            RequiredScore = requiredScore;
            Symbols = symbols ?? Array.Empty<ScanSymbol>();
            VirusName = virusName;
            Phishing = phishing;
            Version = version;
            Reason = reason;
            Elapsed = elapsed;
        }

        /// <summary>Which scanner: <c>rspamd</c>, <c>clamd</c> or <c>mta-headers</c>.</summary>
        public string Scanner { get; }

        /// <summary>What it found.</summary>
        public ScanVerdictKind Kind { get; }

        /// <summary>rspamd's action (NoAction for clamd).</summary>
        public SpamAction Action { get; }

        /// <summary>The spam score, where the scanner gives one.</summary>
        public double? Score { get; }

        /// <summary>The score of rspamd's reject threshold (or the MTA's "required"), where given.</summary>
        public double? RequiredScore { get; }

        /// <summary>The rules that matched, highest score first.</summary>
        public IReadOnlyList<ScanSymbol> Symbols { get; }

        /// <summary>The virus (signature) name, for <see cref="ScanVerdictKind.Virus"/>.</summary>
        public string VirusName { get; }

        /// <summary>True when the scanner found phishing, whatever the kind (a spam verdict may be phishing too).</summary>
        public bool Phishing { get; }

        /// <summary>The scanner's version, where known.</summary>
        public string Version { get; }

        /// <summary>Why, for the kinds that did not scan (TooLarge, Unreachable, Error), or the scanner's message.</summary>
        public string Reason { get; }

        /// <summary>How long the scan took.</summary>
        public TimeSpan Elapsed { get; }

        /// <summary>True when the scanner looked at the whole message (Clean, Spam, Phishing, Virus).</summary>
        public bool Scanned => Kind == ScanVerdictKind.Clean || Kind == ScanVerdictKind.Spam || Kind == ScanVerdictKind.Phishing || Kind == ScanVerdictKind.Virus;

        /// <summary>True when the spam action calls the message junk (add header and above, greylist excluded).</summary>
        public bool IsJunk => Action >= SpamAction.AddHeader;

        /// <summary>One line for the journal: scanner, kind, action, score, the top symbols.</summary>
        public string Summary
        {
            get
            {
                var parts = new List<string> { Scanner + ": " + Kind };
                if (Kind == ScanVerdictKind.Spam || Action != SpamAction.NoAction) parts.Add("action=" + ActionName(Action));
                if (Score.HasValue) parts.Add(string.Format(CultureInfo.InvariantCulture, "score={0:0.##}", Score.Value)
                    + (RequiredScore.HasValue ? string.Format(CultureInfo.InvariantCulture, "/{0:0.##}", RequiredScore.Value) : ""));
                if (VirusName != null) parts.Add("virus=" + VirusName);
                if (Phishing && Kind != ScanVerdictKind.Phishing) parts.Add("phishing");
                var top = Symbols.Where(s => s.Score != 0 || Symbols.Count <= 8).Take(8).ToList();
                if (top.Count > 0) parts.Add("symbols=" + string.Join(",", top));
                if (Reason != null) parts.Add("(" + Reason + ")");
                return string.Join(" ", parts);
            }
        }

        /// <summary>rspamd's own spelling of this verdict's action ("add header"), for views and text.</summary>
        public string ActionText => ActionName(Action);

        /// <summary>rspamd's own spelling of an action ("add header").</summary>
        public static string ActionName(SpamAction action)
        {
            switch (action)
            {
                case SpamAction.Greylist: return "greylist";
                case SpamAction.AddHeader: return "add header";
                case SpamAction.RewriteSubject: return "rewrite subject";
                case SpamAction.SoftReject: return "soft reject";
                case SpamAction.Reject: return "reject";
                default: return "no action";
            }
        }

        /// <summary>Reads rspamd's spelling of an action; unknown text is null.</summary>
        public static SpamAction? ParseAction(string text)
        {
            switch ((text ?? "").Trim().ToLowerInvariant().Replace('_', ' '))
            {
                case "no action": return SpamAction.NoAction;
                case "greylist": return SpamAction.Greylist;
                case "add header": return SpamAction.AddHeader;
                case "rewrite subject": return SpamAction.RewriteSubject;
                case "soft reject": return SpamAction.SoftReject;
                case "reject": return SpamAction.Reject;
                default: return null;
            }
        }

        /// <inheritdoc />
        public override string ToString() => Summary;
    }
}
