// A Delta LogStore for local file systems whose commits are exclusive across processes: the commit is written to a
// temp file, synced, then hard-linked to its name (link fails when the name exists), as src/delta/engine/
// local-storage.ts commits. Spark's default for file: paths checks for the name and then renames, which overwrites a
// commit another process (our TypeScript writers, live ingest) made in between. Used for file: lakes only
// (spark.delta.logStore.file.impl); object stores keep their own LogStores.
package sensorlake.delta;

import io.delta.storage.HadoopFileSystemLogStore;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

public class LinkLogStore extends HadoopFileSystemLogStore {
  public LinkLogStore(Configuration conf) {
    super(conf);
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf) throws IOException {
    Path qualified = path.getFileSystem(hadoopConf).makeQualified(path);
    java.nio.file.Path target = new File(qualified.toUri()).toPath();
    Files.createDirectories(target.getParent());
    java.nio.file.Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        StringBuilder text = new StringBuilder();
        while (actions.hasNext()) text.append(actions.next()).append('\n');
        ch.write(java.nio.ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      if (overwrite) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } else {
        try {
          Files.createLink(target, tmp);
        } catch (FileAlreadyExistsException e) {
          throw new FileAlreadyExistsException(target.toString());
        }
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration hadoopConf) {
    return false;
  }
}
