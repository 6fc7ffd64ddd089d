using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using static ReplyAdmin.Engine.Classification.Rules.RuleHelpers;

namespace ReplyAdmin.Engine.Classification.Rules
{
    /// <summary>
    /// Subject rules. The subject is normalised (lower case, accents removed) and only the part a responder
    /// writes counts: the start of the subject, before any reply/forward prefix. "Re: Out of office policy"
    /// and "AW: Automatische Antwort: ..." are a person's subjects (the phrase is quoted from the original).
    /// </summary>
    internal static class SubjectRules
    {
        // Reply and forward prefixes in the languages mail clients use (Re, AW, SV, Odp, R, ...; WG, Fwd, TR, RV, I, ...).
        private const string ReplyPrefix = @"(re|aw|sv|vs|odp|antw|atb|ynt|r|ris|rif|res|resp|ha|reply|отв|ответ|回复|答复|返信)";
        private const string ForwardPrefix = @"(fw|fwd|wg|tr|rv|i|enc|doorst|pd|vb|vl|fs|trs|転送|转发|пересл)";
        private static readonly Regex LeadingReplyOrForward = new Regex(@"^\s*(" + ReplyPrefix + "|" + ForwardPrefix + @")\s*(\[\d+\]|\(\d+\))?\s*[:：]", Lower, RegexTimeout);
        private static readonly Regex LeadingForward = new Regex(@"^\s*" + ForwardPrefix + @"\s*(\[\d+\])?\s*[:：]", Lower, RegexTimeout);
        // Tags some gateways put in front: [EXT], [SPAM], *** ... ***
        private static readonly Regex LeadingTags = new Regex(@"^(\s*(\[[^\]]{0,40}\]|\*+|\{[^}]{0,40}\}))+\s*", Lower, RegexTimeout);

        // The phrases, per language and with their sources, are in PhraseTables.Subjects.
        private static readonly SubjectPhrase[] SubjectPhrases = PhraseTables.Subjects;

        // One pass that says whether any phrase starts the subject at all (most subjects: none), before the per-phrase rules.
        private static readonly Regex AnySubjectPhrase = new Regex(@"^(" + string.Join("|", SubjectPhrases.Select(p => p.Pattern)) + ")", Lower, RegexTimeout);

        private static readonly Regex StrongRest = new Regex(@"^\s*[:：]", Lower, RegexTimeout);
        // After the phrase: nothing, a separator, a date or "until", or the original subject behind a reply prefix.
        private static readonly Regex ModerateRest = new Regex(@"^(\s*$|\s*[-–!.,(\[]|\s+(until|till|bis|from|vom|ab|du|jusqu|dal|al|fino|hasta|ate|tot|do|til|frem|returning|back|zuruck|\d)|\s+" + ReplyPrefix + @"\s*[:：]|\s+(alert|notice|notification|reply|message|nachricht|info)\b)", Lower, RegexTimeout);
        private static readonly Regex WordBoundaryRest = new Regex(@"^($|[^\p{L}\p{N}])", Lower, RegexTimeout);

        public static void Apply(HeaderIndex headers, Findings found)
        {
            var raw = First(headers, "Subject");
            if (raw == null)
                return;
            var subject = Normalize(raw.Length > MaxSubjectLength ? raw.Substring(0, MaxSubjectLength) : raw).Trim();
            subject = LeadingTags.Replace(subject, string.Empty, 1);

            // A person forwarding something (perhaps a bounce or an out-of-office) is a person.
            if (SafeMatch(LeadingForward, subject))
            {
                found.Add("ForwardedByPerson", "convention", $"Subject: {raw.Trim()}", 0.3, EvidenceIndication.Human);
                return;
            }
            // A reply prefix first: whatever follows is the quoted original subject, not the responder's words.
            if (SafeMatch(LeadingReplyOrForward, subject))
                return;

            if (!SafeMatch(AnySubjectPhrase, subject))
                return;
            foreach (var phrase in SubjectPhrases)
            {
                var m = SafeRegexMatch(phrase.Regex, subject);
                if (m == null || !m.Success)
                    continue;
                var rest = m.Groups["rest"].Value;
                var phraseText = m.Groups[1].Value;
                var endsInLatinLetter = phraseText.Length > 0 && phraseText[phraseText.Length - 1] < 0x250 && char.IsLetter(phraseText[phraseText.Length - 1]);
                if (endsInLatinLetter && !SafeMatch(WordBoundaryRest, rest))
                    continue; // "absences" or "autobahn": not the word (scripts without spaces, e.g. Japanese, have no word boundary)
                double weight;
                string form;
                if (SafeMatch(StrongRest, rest))
                {
                    weight = phrase.Ambiguous ? 0.55 : 0.8;
                    form = "prefix form";
                }
                else if (SafeMatch(ModerateRest, rest))
                {
                    weight = phrase.Ambiguous ? 0.45 : (phrase.Indicates == EvidenceIndication.Bounce ? 0.75 : 0.55);
                    form = "at the start";
                }
                else
                {
                    // "Out of office policy ...", "Automatic reply settings question": a person's subject as often as a responder's.
                    weight = phrase.Ambiguous ? 0.25 : (phrase.Indicates == EvidenceIndication.Bounce ? 0.6 : 0.3);
                    form = "at the start, followed by other words";
                }
                found.Add(phrase.Rule, phrase.Source, $"Subject ({form}): {raw.Trim()}", weight, phrase.Indicates, phrase.Kind);
                return; // one subject finding is enough
            }
        }
    }
}
