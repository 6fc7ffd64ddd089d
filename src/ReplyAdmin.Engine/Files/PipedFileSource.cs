using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>
    /// Message files given one by one (e.g. piped from Get-ChildItem). They are left where they are and no state is kept
    /// beside them, so each counts as possibly stored before: the reply folder is searched for its copy first.
    /// </summary>
    public sealed class PipedFileSource : IReplySource
    {
        private readonly IReadOnlyList<string> _files;

        /// <summary>Creates the source for the given files.</summary>
        public PipedFileSource(IEnumerable<string> files) => _files = files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();

        /// <inheritdoc />
        public string Description => $"{_files.Count} file(s) given";

        /// <inheritdoc />
        public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        /// <inheritdoc />
        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<SourceMessage>>(_files.Select(f => MessageFile.Describe(f, Path.GetFileName(f), SourceState.Claimed)).ToList());

        /// <inheritdoc />
        public Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken) => MessageFile.LoadHeadersAsync(batch);

        /// <inheritdoc />
        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken) => MessageFile.OpenAsync(message);

        /// <inheritdoc />
        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) => MessageFile.OpenAsync(message);

        /// <inheritdoc />
        public Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken)
        {
            foreach (var message in messages) message.State |= state;
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

        /// <inheritdoc />
        public Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            foreach (var message in messages) message.AcknowledgedTo = "left in place (given as a file)";
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public void Dispose()
        {
        }
    }
}
