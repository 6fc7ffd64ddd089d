using System;
using System.IO;
using MimeKit;

namespace ReplyAdmin.Engine.Classification
{
    /// <summary>
    /// Reads the header block of a stored message without reading its body, and parses the whole message only when
    /// asked: what <see cref="IReplyClassifier.Classify"/> needs for a file. Tolerates an mbox <c>From </c> line.
    /// </summary>
    public static class MessageHeaderReader
    {
        /// <summary>Reads the top-level headers of the message at the start of <paramref name="stream"/>.</summary>
        /// <param name="stream">A readable stream positioned at the start of the message.</param>
        /// <returns>The headers; the stream is left somewhere after them.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
        /// <exception cref="FormatException">The stream holds no header block (e.g. it is empty).</exception>
        public static HeaderList ReadHeaders(Stream stream)
        {
            if (stream == null)
                throw new ArgumentNullException(nameof(stream));
            var format = DetectFormat(stream);
            var parser = new MimeParser(stream, format);
            return parser.ParseHeaders();
        }

        /// <summary>Parses the whole message at the start of a seekable <paramref name="stream"/> (it is rewound first).</summary>
        /// <param name="stream">A readable, seekable stream.</param>
        /// <param name="persistent">True to leave part contents in the stream (fast, low memory; the stream must stay open while the message is used).</param>
        /// <returns>The message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
        /// <exception cref="FormatException">The stream holds no message.</exception>
        public static MimeMessage ReadMessage(Stream stream, bool persistent = false)
        {
            if (stream == null)
                throw new ArgumentNullException(nameof(stream));
            stream.Position = 0;
            var format = DetectFormat(stream);
            return new MimeParser(stream, format, persistent).ParseMessage();
        }

        /// <summary>
        /// Classifies the message stored in <paramref name="path"/>, reading only its header block unless the classifier
        /// asks for the body. A file that holds no parsable message is classified Human with low confidence (rule
        /// <c>MessageMalformed</c>), never an exception.
        /// </summary>
        /// <param name="classifier">The classifier.</param>
        /// <param name="path">The file.</param>
        /// <param name="headers">The headers read (for subject and sender display).</param>
        /// <returns>The verdict.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="classifier"/> or <paramref name="path"/> is null.</exception>
        /// <exception cref="IOException">The file cannot be read.</exception>
        /// <exception cref="UnauthorizedAccessException">Access to the file is denied.</exception>
        public static ReplyClassification ClassifyFile(IReplyClassifier classifier, string path, out HeaderList headers)
        {
            if (classifier == null)
                throw new ArgumentNullException(nameof(classifier));
            if (path == null)
                throw new ArgumentNullException(nameof(path));
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan))
            {
                try
                {
                    headers = ReadHeaders(stream);
                }
                catch (FormatException headerError)
                {
                    // The header parser is strict about the first line; the full parser is lenient. Failing both, the
                    // message is malformed: it is classified (Human, unsure), never an error that stops a run.
                    MimeMessage whole;
                    try
                    {
                        whole = ReadMessage(stream, persistent: true);
                    }
                    catch (FormatException)
                    {
                        headers = new HeaderList();
                        return ReplyClassifier.Malformed($"no header block could be parsed: {headerError.Message}");
                    }
                    headers = whole.Headers;
                    return classifier.Classify(headers, () => whole);
                }
                return classifier.Classify(headers, () => ReadMessage(stream, persistent: true));
            }
        }

        // Leading blank lines (seen in saved fixtures) and an mbox "From " line (messages saved from mbox files) are
        // skipped; the stream is left at the first header.
        private static MimeFormat DetectFormat(Stream stream)
        {
            if (!stream.CanSeek)
                return MimeFormat.Entity;
            var start = stream.Position;
            var buffer = new byte[4096];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0)
                read += n;
            var skip = 0;
            while (skip < read && (buffer[skip] == ' ' || buffer[skip] == '\t' || buffer[skip] == '\r' || buffer[skip] == '\n'))
                skip++;
            // only whole blank lines are skipped: back up to the start of the first non-blank line
            while (skip > 0 && buffer[skip - 1] != '\n')
                skip--;
            // An mbox "From " envelope line is not a header: start after it (MimeKit's header parser finds no headers
            // in mbox format).
            if (read - skip >= 5 && buffer[skip] == 'F' && buffer[skip + 1] == 'r' && buffer[skip + 2] == 'o' && buffer[skip + 3] == 'm' && buffer[skip + 4] == ' ')
            {
                var eol = Array.IndexOf(buffer, (byte)'\n', skip, read - skip);
                if (eol < 0)
                {
                    stream.Position = start + skip;
                    return MimeFormat.Mbox;
                }
                skip = eol + 1;
            }
            stream.Position = start + skip;
            return MimeFormat.Entity;
        }
    }
}
