using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// Cuts a run's messages into batches and hands them to workers: each worker takes the next batch in order until none
    /// is left or one of them met an error that ends the run; the others finish the batch they are in, so every message
    /// they touched gets its result. Never two workers with the same message.
    /// </summary>
    internal static class BatchScheduler
    {
        // Batches end at this many bytes: large messages then come a few at a time and spread over the workers.
        internal const long MaxBatchBytes = 8L * 1024 * 1024;

        /// <summary>Consecutive batches of at most <see cref="ProcessingOptions.BatchSize"/> messages and 8 MB (a larger message is a batch of its own).</summary>
        public static List<List<SourceMessage>> Batches(IEnumerable<SourceMessage> messages)
        {
            var batches = new List<List<SourceMessage>>();
            var batch = new List<SourceMessage>();
            long bytes = 0;
            foreach (var message in messages)
            {
                if (batch.Count > 0 && (batch.Count >= ProcessingOptions.BatchSize || bytes + message.Size > MaxBatchBytes))
                {
                    batches.Add(batch);
                    batch = new List<SourceMessage>();
                    bytes = 0;
                }
                batch.Add(message);
                bytes += message.Size;
            }
            if (batch.Count > 0)
                batches.Add(batch);
            return batches;
        }

        /// <summary>Runs <paramref name="handle"/> for every batch on up to <paramref name="workers"/> workers.</summary>
        /// <exception cref="Exception">The first failure that stopped a worker; a server error says more than a cancellation, so it wins.</exception>
        public static async Task RunAsync(IReadOnlyList<List<SourceMessage>> batches, int workers, Func<List<SourceMessage>, Task> handle)
        {
            var next = -1;
            var ending = 0;
            async Task WorkerAsync()
            {
                await Task.Yield(); // off the caller's thread
                int index;
                while (Volatile.Read(ref ending) == 0 && (index = Interlocked.Increment(ref next)) < batches.Count)
                {
                    try
                    {
                        await handle(batches[index]).ConfigureAwait(false);
                    }
                    catch
                    {
                        Volatile.Write(ref ending, 1);
                        throw;
                    }
                }
            }
            var running = Enumerable.Range(0, Math.Min(Math.Max(1, workers), batches.Count)).Select(_ => WorkerAsync()).ToList();
            try
            {
                await Task.WhenAll(running).ConfigureAwait(false);
            }
            catch
            {
                var errors = running.Where(w => w.IsFaulted).Select(w => w.Exception.InnerException).ToList();
                var error = errors.FirstOrDefault(e => !(e is OperationCanceledException)) ?? errors.FirstOrDefault();
                if (error == null) throw;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
        }
    }
}
