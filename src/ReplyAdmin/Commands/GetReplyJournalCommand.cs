using System;
using System.Management.Automation;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Gets what happened to replies, from the journal that Invoke-ReplyProcessing writes.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyJournal")]
    [OutputType(typeof(ProcessingResult))]
    public sealed class GetReplyJournalCommand : ReplyAdminCmdlet
    {
        /// <summary>Sender (From header); wildcards allowed.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        public string From { get; set; }

        /// <summary>Subject; wildcards allowed.</summary>
        [Parameter]
        [SupportsWildcards]
        public string Subject { get; set; }

        /// <summary>Message-ID, with or without angle brackets.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string MessageId { get; set; }

        /// <summary>Only results after this time.</summary>
        [Parameter]
        public DateTime After { get; set; }

        /// <summary>Only results before this time.</summary>
        [Parameter]
        public DateTime Before { get; set; }

        /// <summary>Only results with this outcome.</summary>
        [Parameter]
        public ReplyOutcome[] Outcome { get; set; }

        /// <summary>Only results of this run.</summary>
        [Parameter]
        public string RunId { get; set; }

        /// <summary>Journal directory; default: 'journal' beside the configuration file.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string JournalPath { get; set; }

        // Text without wildcards matches anywhere in the field, so -From bernd finds "Bernd Meier <bernd@...>".
        private static WildcardPattern Pattern(string text) => text == null ? null
            : new WildcardPattern(WildcardPattern.ContainsWildcardCharacters(text) ? text : $"*{text}*", WildcardOptions.IgnoreCase);

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var directory = JournalPath != null ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath) : Journal.DefaultDirectory(ResolvedConfigPath);
            var from = Pattern(From);
            var subject = Pattern(Subject);
            var messageId = MessageId?.Trim().Trim('<', '>');
            var bound = MyInvocation.BoundParameters;
            foreach (var result in Journal.Read(directory))
            {
                if (from != null && !from.IsMatch(result.From ?? string.Empty)) continue;
                if (subject != null && !subject.IsMatch(result.Subject ?? string.Empty)) continue;
                if (messageId != null && !string.Equals(messageId, result.MessageId, StringComparison.OrdinalIgnoreCase)) continue;
                if (bound.ContainsKey(nameof(After)) && result.Time < new DateTimeOffset(After.ToUniversalTime())) continue;
                if (bound.ContainsKey(nameof(Before)) && result.Time > new DateTimeOffset(Before.ToUniversalTime())) continue;
                if (Outcome != null && Array.IndexOf(Outcome, result.Outcome) < 0) continue;
                if (RunId != null && !string.Equals(RunId, result.RunId, StringComparison.OrdinalIgnoreCase)) continue;
                WriteObject(result);
            }
        }
    }
}
