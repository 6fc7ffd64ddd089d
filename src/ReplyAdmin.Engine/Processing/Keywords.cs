using System.Collections.Generic;
using ReplyAdmin.Engine.Classification;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The IMAP keywords ReplyAdmin sets, in one place. In the reply folder they let staff filter by list and
    /// class; on source messages they record how far handling got. Dovecot limits keywords to 50 characters by
    /// default, which is why list names are at most 32 characters.
    /// </summary>
    public static class Keywords
    {
        /// <summary>Prefix of a list's keyword in the reply folder.</summary>
        public const string ListPrefix = "ReplyAdmin-List-";
        /// <summary>A message addressed to no configured list.</summary>
        public const string Unrouted = "ReplyAdmin-Unrouted";
        /// <summary>A notice about a message that was too large to store.</summary>
        public const string TooLargeNotice = "ReplyAdmin-TooLarge";
        /// <summary>A notice about a message a scanner found a virus in (the original is kept in the source's Quarantine folder).</summary>
        public const string QuarantineNotice = Scanning.ScanDecision.QuarantineNoticeKeyword;
        /// <summary>A message that cannot be read as e-mail: the original as it came where the server took it, else a notice about it.</summary>
        public const string Unreadable = "ReplyAdmin-Unreadable";
        /// <summary>Source state: a run started handling the message.</summary>
        public const string Claimed = "ReplyAdmin-Claimed";
        /// <summary>Source state: the reply folder holds the copy.</summary>
        public const string Stored = "ReplyAdmin-Stored";
        /// <summary>Source state: the relay accepted the forward.</summary>
        public const string Forwarded = "ReplyAdmin-Forwarded";

        /// <summary>Prefix of the source keyword that counts permanently failed attempts (<c>ReplyAdmin-Attempt-2</c>); only the latest is kept.</summary>
        public const string AttemptPrefix = "ReplyAdmin-Attempt-";

        /// <summary>The attempts recorded by a message's keywords (the highest <c>ReplyAdmin-Attempt-N</c>).</summary>
        public static int AttemptsOf(IEnumerable<string> keywords)
        {
            var attempts = 0;
            foreach (var keyword in keywords)
                if (keyword.StartsWith(AttemptPrefix, System.StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(keyword.Substring(AttemptPrefix.Length), out var n) && n > attempts)
                    attempts = n;
            return attempts;
        }

        /// <summary>The keyword of a list.</summary>
        public static string ForList(string listName) => ListPrefix + listName;

        /// <summary>The keyword of a class, e.g. <c>ReplyAdmin-AutoReply</c>.</summary>
        public static string ForClass(ReplyClass replyClass) => "ReplyAdmin-" + replyClass;

        /// <summary>The source-state keywords of a state.</summary>
        public static IEnumerable<string> ForState(SourceState state)
        {
            if ((state & SourceState.Claimed) != 0) yield return Claimed;
            if ((state & SourceState.Stored) != 0) yield return Stored;
            if ((state & SourceState.Forwarded) != 0) yield return Forwarded;
        }

        /// <summary>The state recorded by a message's keywords.</summary>
        public static SourceState StateOf(IEnumerable<string> keywords)
        {
            var state = SourceState.None;
            foreach (var keyword in keywords)
            {
                if (string.Equals(keyword, Claimed, System.StringComparison.OrdinalIgnoreCase)) state |= SourceState.Claimed;
                else if (string.Equals(keyword, Stored, System.StringComparison.OrdinalIgnoreCase)) state |= SourceState.Stored;
                else if (string.Equals(keyword, Forwarded, System.StringComparison.OrdinalIgnoreCase)) state |= SourceState.Forwarded;
            }
            return state;
        }
    }
}
