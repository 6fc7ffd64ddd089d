using System.Collections.Generic;
using System.IO;
using System.Linq;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>A Maildir the MTA delivers to: messages wait in <c>new/</c> and <c>cur/</c>.</summary>
    public sealed class MaildirReplySource : FileSystemReplySource
    {
        /// <summary>Creates the source.</summary>
        public MaildirReplySource(InboundSourceSettings settings, bool readOnly = false) : base(settings, readOnly)
        {
        }

        /// <inheritdoc />
        protected internal override IEnumerable<string> WaitingFiles() => FilesIn(Path.Combine(Root, "new")).Concat(FilesIn(Path.Combine(Root, "cur")));
    }

    internal sealed class MaildirSourceProvider : FileSystemSourceProvider
    {
        public override SourceKind Kind => SourceKind.Maildir;

        public override IReplySource Create(InboundSourceSettings settings, SourceContext context) => new MaildirReplySource(settings, context.ReadOnly);
    }
}
