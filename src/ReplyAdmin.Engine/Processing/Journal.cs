using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The record of what happened to each message: JSON lines, one file per UTC day, appended as each message
    /// is handled. Holds headers and outcomes, never message bodies or secrets.
    /// </summary>
    public sealed class Journal : IDisposable
    {
        private static readonly JsonSerializerOptions Options = EngineJsonContext.ForThisRuntime(new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Converters = { new JsonStringEnumConverter() },
            // Readable names and subjects in the file; the journal is never embedded in HTML.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });

        private readonly StreamWriter _writer;

        /// <summary>Opens today's journal file in <paramref name="directory"/> for appending.</summary>
        /// <exception cref="ReplyAdminException">The directory cannot be written.</exception>
        public Journal(string directory)
        {
            Path = System.IO.Path.Combine(directory, $"journal-{DateTime.UtcNow:yyyy-MM-dd}.jsonl");
            try
            {
                // Customers' addresses and subjects: owner-only on Unix (0700 directory, 0600 files), set before the first line.
                Configuration.UnixPermissions.CreateOwnerDirectory(directory);
                // FileShare.ReadWrite: overlapping runs and readers may open the same day's file.
                var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                Configuration.UnixPermissions.Set(Path, Configuration.UnixPermissions.OwnerFile);
                _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.JournalUnwritable, ReplyAdminErrorKind.WriteError,
                    $"The journal '{Path}' cannot be written: {e.Message}", Path, "Check the permissions of the journal directory, or give another one with -JournalPath.", e);
            }
        }

        /// <summary>The file written.</summary>
        public string Path { get; }

        /// <summary>The default journal directory: <c>journal</c> beside the configuration file.</summary>
        public static string DefaultDirectory(string configPath) =>
            System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(configPath)) ?? ".", "journal");

        /// <summary>Appends one result as one line.</summary>
        public void Write(ProcessingResult result)
        {
            lock (_writer)
                _writer.WriteLine(JsonSerializer.Serialize(result, Options));
        }

        /// <summary>
        /// Appends the line of a message about to be moved at the source (<see cref="ProcessingResult.Pending"/>): if the run
        /// dies before its final line, this one says what happened. Read, it gives way to any later line of the same message.
        /// </summary>
        public void WritePending(ProcessingResult result, SourceDestination destination)
        {
            var line = result.Copy();
            line.Pending = true;
            line.Time = DateTimeOffset.UtcNow;
            line.Actions.Add($"Moving to {destination}");
            Write(line);
        }

        /// <summary>Reads every result of the journal files in <paramref name="directory"/>, oldest file first; unreadable lines are skipped.</summary>
        public static IEnumerable<ProcessingResult> Read(string directory)
        {
            var results = new List<ProcessingResult>(ReadLines(directory));
            // A pending line counts only when no later line of the same message follows it (its run died before writing one).
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < results.Count; i++) last[KeyOf(results[i])] = i;
            for (var i = 0; i < results.Count; i++)
                if (results[i].Pending != true || last[KeyOf(results[i])] == i)
                    yield return results[i];
        }

        private static string KeyOf(ProcessingResult result) => result.SourceId + "\n" + result.MessageId;

        private static IEnumerable<ProcessingResult> ReadLines(string directory)
        {
            if (!Directory.Exists(directory)) yield break;
            var files = Directory.GetFiles(directory, "journal-*.jsonl");
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                using (var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)))
                {
                    string line;
                    while ((line = reader.ReadLine()) != null)
                    {
                        ProcessingResult result = null;
                        try { result = JsonSerializer.Deserialize<ProcessingResult>(line, Options); }
                        catch (JsonException) { } // a line cut short by a crash
                        if (result != null) yield return result;
                    }
                }
            }
        }

        /// <inheritdoc />
        public void Dispose() => _writer.Dispose();
    }
}
