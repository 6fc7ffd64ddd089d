using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>Reading message files: what every file-based source shares.</summary>
    internal static class MessageFile
    {
        public static SourceMessage Describe(string path, string name, SourceState state)
        {
            var info = new FileInfo(path);
            return new SourceMessage(name, info.Exists ? info.Length : 0, state, info.Exists ? info.LastWriteTimeUtc : (DateTimeOffset?)null, path);
        }

        public static Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch)
        {
            foreach (var message in batch)
            {
                try
                {
                    // Tolerates what saved .eml files carry before the headers: an mbox "From " line, blank lines.
                    using (var stream = File.OpenRead((string)message.Handle))
                        message.Headers = MessageHeaderReader.ReadHeaders(stream);
                    if (message.Headers.Count == 0)
                    {
                        message.Headers = null;
                        message.HeaderError = "it has no header fields";
                    }
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    // Whatever a file holds, it is this message's problem: it gets an outcome, the run goes on.
                    message.Headers = null;
                    message.HeaderError = e.Message;
                }
            }
            return Task.CompletedTask;
        }

        // A small file buffer: the body is copied in 64 KB blocks anyway, and a large buffer per message only adds garbage.
        // A local file is read only as far as the caller reads, so the whole file also serves as the message's start.
        public static Task<Stream> OpenAsync(SourceMessage message) =>
            Task.FromResult<Stream>(new FileStream((string)message.Handle, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan));
    }
}
