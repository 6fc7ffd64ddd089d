using MimeKit;

namespace ReplyAdmin.Engine.Classification.Rules
{
    /// <summary>
    /// Every classification rule, in one place. Each rule names its source (an RFC or the vendor whose software
    /// behaves that way) and carries a weight from 0 to 1. Weights combine as independent evidence
    /// (1 - Π(1 - w)); a message is auto-generated when the combined weight, lowered by evidence for a person,
    /// reaches <see cref="ReplyClassifier.DecisionThreshold"/> (0.70).
    /// <para>Calibration: 0.9 and above decides alone (standard or vendor marker headers, DSN structure);
    /// 0.75–0.8 decides alone but is a convention, not a marker (anchored subject prefixes, MAILER-DAEMON);
    /// 0.5–0.6 is moderate and needs a second signal; text found in the body is weak (at most 0.55, and only the
    /// strongest text finding counts), so the body alone never filters a message.</para>
    /// <para>Direction of doubt: the Exclude setting drops what is classified as auto-generated, and dropping a real
    /// customer's reply is the worst mistake; so every rule errs towards Human.</para>
    /// </summary>
    internal static class ClassificationRules
    {
        /// <summary>Applies every header rule (the subject included).</summary>
        public static void ApplyHeaderRules(HeaderList headers, Findings found, RelayIdentity relay = null) => HeaderRules.Apply(headers, found, relay);

        /// <summary>Applies the structure and text rules to a parsed message.</summary>
        public static void ApplyBodyRules(MimeMessage message, Findings found) => BodyRules.Apply(message, found);
    }
}
