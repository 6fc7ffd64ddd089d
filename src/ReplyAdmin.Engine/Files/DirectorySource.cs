using System.Collections.Generic;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>A directory of <c>.eml</c> files (e.g. a pickup directory, or files saved by another tool).</summary>
    public sealed class DirectoryReplySource : FileSystemReplySource
    {
        /// <summary>Creates the source.</summary>
        public DirectoryReplySource(InboundSourceSettings settings, bool readOnly = false) : base(settings, readOnly)
        {
        }

        /// <inheritdoc />
        protected internal override IEnumerable<string> WaitingFiles() => FilesIn(Root, "*.eml");
    }

    internal sealed class DirectorySourceProvider : FileSystemSourceProvider
    {
        public override SourceKind Kind => SourceKind.Directory;

        public override IReplySource Create(InboundSourceSettings settings, SourceContext context) => new DirectoryReplySource(settings, context.ReadOnly);
    }
}
